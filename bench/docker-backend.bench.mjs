#!/usr/bin/env node
// DockerBackend through the WarmPool vs the raw engine, measured side by side in one run, on the
// locally built image (no registry needed):
// - cold start, nothing prepared: pool launch + first invoke of a function version never launched
//   before (its code volume is made in the measured time)  vs  `docker run` of the same image + its
//   first request;
// - cold start, prepared (spareInstances: 1): a scale-out call that starts the prepared container,
//   up to its answer  vs  the engine's start (API) of a container created beforehand + its first request;
// - warm invoke: pool.invoke  vs  a direct undici request (one keep-alive connection) to the same container.
// Targets: cold ≤ 1.15× (issue 4), prepared cold ≤ 1.5× (issue 12), warm overhead ≤ 0.5 ms at p50.
//
//   pnpm bench -- docker-backend
//   BENCH_COLD_RUNS=5 BENCH_WARM_ITERATIONS=1000 node bench/docker-backend.bench.mjs
// BENCH_IMAGE_TAG builds/uses the local image under another tag (engines shared with other checkouts).
// Core is imported from this checkout's TypeScript sources (Node strips the types), so no build is
// needed and what is measured is the code as it is now, with or without the source export condition.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from 'undici';
import * as core from '../packages/core/src/index.ts';
import { ensureLocalImage } from '../test/image/local-image.ts';
import { millis, summary, times, verdict } from './lib/report.mjs';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const codeDir = join(here, 'docker-backend.fixture');
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 5);
const WARM_ITERATIONS = Number(process.env.BENCH_WARM_ITERATIONS ?? 1000);
const WARMUP = 100;
const BLOCK = 50;
const INVOKE_PATH = '/2015-03-31/functions/function/invocations';

const ms = (v) => `${v.toFixed(2)} ms`;

const { tag: image } = await ensureLocalImage({
  ...(process.env.BENCH_IMAGE_TAG ? { tag: process.env.BENCH_IMAGE_TAG } : {}),
  onProgress: (m) => console.error(`  ${m}`),
});
/** The bench function; `version` gives another deploy id (so nothing of an earlier version is reused). */
const resolveVersion = (version) =>
  core.resolveFunction(
    {
      name: 'bench-echo',
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      code: codeDir,
      image,
      environment: { BENCH_VERSION: String(version) },
    },
    { root: here },
  );
const fn = await resolveVersion('warm');
const backend = new core.DockerBackend({ log: () => {} });
const payload = (n) => Buffer.from(JSON.stringify({ n }));
let versions = 0;

// ---- pool side ----
async function poolCold() {
  const version = await resolveVersion(versions++);
  const pool = new core.WarmPool({ backend, runId: `bench-${randomUUID().slice(0, 8)}` });
  pool.register(version);
  const t0 = performance.now();
  const out = await pool.invoke('bench-echo', payload(0));
  const elapsed = performance.now() - t0;
  if (out.kind !== 'success' || !out.coldStart) throw new Error(`unexpected pool outcome ${out.kind}`);
  await pool.stopAll();
  return elapsed;
}

/**
 * A scale-out onto a prepared container: the first call launches an instance (after which the pool
 * prepares one spare), a second call holds that instance, and the measured call finds every
 * instance busy, so the pool starts the spare.
 */
async function poolPrepared() {
  const pool = new core.WarmPool({
    backend,
    spareInstances: 1,
    runId: `bench-${randomUUID().slice(0, 8)}`,
  });
  pool.register(fn);
  await pool.invoke('bench-echo', payload(0));
  await until(() => pool.stats()['bench-echo'].spares === 1, 30_000, 'the spare was not prepared');
  const hold = pool.invoke('bench-echo', Buffer.from(JSON.stringify({ holdMs: 4000 })));
  await until(() => pool.list().some((i) => i.state === 'busy'), 5_000, 'the hold call did not start');
  const t0 = performance.now();
  const out = await pool.invoke('bench-echo', payload(1));
  const elapsed = performance.now() - t0;
  if (out.kind !== 'success' || !out.coldStart) throw new Error(`unexpected pool outcome ${out.kind}`);
  await hold;
  await pool.stopAll();
  return elapsed;
}

async function until(check, limitMs, what) {
  const deadline = performance.now() + limitMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(what);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ---- raw side: docker run + the first request, retried until the container answers ----
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function firstRequest(port, deadline) {
  for (;;) {
    const client = new Client(`http://127.0.0.1:${port}`);
    try {
      const res = await client.request({ method: 'POST', path: INVOKE_PATH, body: JSON.stringify({ n: 0 }) });
      const body = await res.body.text();
      if (res.statusCode === 200) return body;
    } catch {
      // the proxy accepted before the container listened (moby/moby#16976): try again
    } finally {
      await client.close().catch(() => {});
    }
    if (performance.now() > deadline) throw new Error('raw container did not answer');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function rawCold() {
  const port = await freePort();
  const name = `ltk-bench-raw-${randomUUID().slice(0, 8)}`;
  const t0 = performance.now();
  await run('docker', [
    'run',
    '-d',
    '--name',
    name,
    '-p',
    `127.0.0.1:${port}:8080`,
    '-v',
    `${codeDir}:/var/task:ro`,
    image,
    'index.handler',
  ]);
  await firstRequest(port, t0 + 30_000);
  const elapsed = performance.now() - t0;
  await run('docker', ['rm', '-f', name]);
  return elapsed;
}

/**
 * `docker start` of a container created beforehand (not measured) + its first request, through the
 * engine's API (the client the backend uses too, so no CLI process start is counted).
 */
async function rawStart() {
  const port = await freePort();
  const docker = (await core.connectEngine()).container.dockerode;
  const container = await docker.createContainer({
    name: `ltk-bench-raw-${randomUUID().slice(0, 8)}`,
    Image: image,
    Cmd: ['index.handler'],
    ExposedPorts: { '8080/tcp': {} },
    HostConfig: {
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
      Binds: [`${codeDir}:/var/task:ro`],
    },
  });
  const t0 = performance.now();
  await container.start();
  await firstRequest(port, t0 + 30_000);
  const elapsed = performance.now() - t0;
  await container.remove({ force: true });
  return elapsed;
}

console.log(
  `docker-backend bench: image ${image}, ${COLD_RUNS} cold runs per side and case, ${WARM_ITERATIONS} warm invokes per side`,
);

// One unmeasured launch each: the backend's first launch also sweeps stale containers and connects.
await poolCold();
await rawCold();
await poolPrepared();
await rawStart();

const cold = { pool: [], raw: [], prepared: [], start: [] };
for (let i = 0; i < COLD_RUNS; i++) {
  // Alternate which side goes first so that drift of the machine hits both.
  const pairs = [
    ['pool', poolCold, 'raw', rawCold],
    ['prepared', poolPrepared, 'start', rawStart],
  ];
  for (const [a, measureA, b, measureB] of pairs) {
    if (i % 2 === 0) {
      cold[a].push(await measureA());
      cold[b].push(await measureB());
    } else {
      cold[b].push(await measureB());
      cold[a].push(await measureA());
    }
  }
}

// ---- warm: one pool instance, and a direct client to that same container ----
// The direct client needs the instance's invoke secret, which only the backend's answer carries.
let launched;
const recording = {
  name: backend.name,
  launch: async (f, context) => {
    launched = await backend.launch(f, context);
    return launched;
  },
  terminate: (handle) => backend.terminate(handle),
  logs: (handle) => backend.logs(handle),
};
const pool = new core.WarmPool({ backend: recording, runId: `bench-${randomUUID().slice(0, 8)}` });
pool.register(fn);
await pool.invoke('bench-echo', payload(0));
const direct = new Client(launched.endpoint, { connections: 1, pipelining: 1 });
const directHeaders = launched.invokeSecret
  ? { 'x-lambda-testkit-invoke-secret': launched.invokeSecret }
  : {};
async function directInvoke(n) {
  const res = await direct.request({
    method: 'POST',
    path: INVOKE_PATH,
    body: payload(n),
    headers: directHeaders,
  });
  await res.body.arrayBuffer();
}
const poolInvoke = (n) => pool.invoke('bench-echo', payload(n));

for (let i = 0; i < WARMUP; i++) {
  await poolInvoke(i);
  await directInvoke(i);
}
const warm = { pool: [], direct: [] };
for (let done = 0; done < WARM_ITERATIONS; done += BLOCK) {
  for (const side of done % (2 * BLOCK) === 0 ? ['pool', 'direct'] : ['direct', 'pool']) {
    for (let i = 0; i < BLOCK; i++) {
      const t0 = performance.now();
      await (side === 'pool' ? poolInvoke(i) : directInvoke(i));
      warm[side].push(performance.now() - t0);
    }
  }
}
await direct.close();
await pool.stopAll();
await backend.close();

const c = {
  pool: summary(cold.pool),
  raw: summary(cold.raw),
  prepared: summary(cold.prepared),
  start: summary(cold.start),
};
const w = { pool: summary(warm.pool), direct: summary(warm.direct) };
const coldRatio = c.pool.p50 / c.raw.p50;
const preparedRatio = c.prepared.p50 / c.start.p50;
const overhead = w.pool.p50 - w.direct.p50;
console.log('');
console.log('                         pool (DockerBackend)     raw engine               ratio / overhead');
console.log(
  `cold start  p50          ${ms(c.pool.p50).padEnd(24)} ${ms(c.raw.p50).padEnd(24)} ${coldRatio.toFixed(2)}×  (target ≤ 1.15×)`,
);
console.log(`cold start  p99          ${ms(c.pool.p99).padEnd(24)} ${ms(c.raw.p99).padEnd(24)}`);
console.log('                         pool, prepared spare     raw docker start (created)');
console.log(
  `prepared    p50          ${ms(c.prepared.p50).padEnd(24)} ${ms(c.start.p50).padEnd(24)} ${preparedRatio.toFixed(2)}×  (target ≤ 1.50×)`,
);
console.log(`prepared    p99          ${ms(c.prepared.p99).padEnd(24)} ${ms(c.start.p99).padEnd(24)}`);
console.log(
  `warm invoke p50          ${ms(w.pool.p50).padEnd(24)} ${ms(w.direct.p50).padEnd(24)} +${ms(overhead)}  (target ≤ 0.50 ms)`,
);
console.log(`warm invoke p99          ${ms(w.pool.p99).padEnd(24)} ${ms(w.direct.p99).padEnd(24)}`);
console.log('');
verdict('docker cold start p50 / raw engine (nothing prepared)', coldRatio, 1.15, times);
verdict('docker cold start p50 of a prepared spare / raw docker start', preparedRatio, 1.5, times);
verdict('docker warm overhead p50 over a direct request', overhead, 0.5, millis);
