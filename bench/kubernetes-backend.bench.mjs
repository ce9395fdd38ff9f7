#!/usr/bin/env node
// KubernetesBackend through the WarmPool vs the raw API, side by side in one run, on a real cluster
// (LAMBDA_TESTKIT_KUBECONFIG; CI's is scripts/kubernetes-cluster.sh up) and the local image:
// - cold start: pool launch + first invoke  vs  creating the same Pod directly (same spec, code
//   ConfigMaps already stored) + waiting for it to run + its first request through a port-forward;
// - warm invoke: pool.invoke (through the port-forward)  vs  a direct request through the same
//   port-forward  vs  a direct request to the Pod IP (no port-forward: what a pool inside the cluster pays).
//
//   LAMBDA_TESTKIT_KUBECONFIG=… pnpm bench -- kubernetes-backend
//   BENCH_COLD_RUNS=5 BENCH_WARM_ITERATIONS=500 node bench/kubernetes-backend.bench.mjs
// The local image must be in the cluster: LAMBDA_TESTKIT_KUBERNETES_LOAD_IMAGE (as for the suite, e.g.
// 'scripts/kubernetes-cluster.sh load-image') is run with its tag after it is built.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';
import {
  buildCodePayload,
  payloadConfigMaps,
  payloadVolume,
} from '../packages/core/src/backends/kubernetes/code-payload.ts';
import { instancePod } from '../packages/core/src/backends/kubernetes/pod-spec.ts';
import { forwardPodPort } from '../packages/core/src/backends/kubernetes/port-forward.ts';
import * as core from '../packages/core/src/internal.ts';
import { sandboxEnvironment } from '../packages/core/src/sandbox-env.ts';
import { ensureLocalImage } from '../test/image/local-image.ts';

const kubeconfig = process.env.LAMBDA_TESTKIT_KUBECONFIG;
if (!kubeconfig) {
  console.error('Set LAMBDA_TESTKIT_KUBECONFIG to the kubeconfig of a cluster that has the local image.');
  process.exit(1);
}
const namespace = process.env.LAMBDA_TESTKIT_KUBERNETES_NAMESPACE || 'default';
const here = dirname(fileURLToPath(import.meta.url));
const codeDir = join(here, 'docker-backend.fixture');
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 5);
const WARM_ITERATIONS = Number(process.env.BENCH_WARM_ITERATIONS ?? 500);
const WARMUP = 50;
const BLOCK = 50;
const INVOKE_PATH = '/2015-03-31/functions/function/invocations';

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
}
const ms = (v) => `${v.toFixed(2)} ms`;

const { tag: image } = await ensureLocalImage({ onProgress: (m) => console.error(`  ${m}`) });
const load = process.env.LAMBDA_TESTKIT_KUBERNETES_LOAD_IMAGE;
if (load) {
  const loaded = spawnSync('sh', ['-c', `${load} "$0"`, image], { stdio: 'inherit', cwd: join(here, '..') });
  if (loaded.status !== 0) throw new Error(`loading ${image} into the cluster failed (${load})`);
}
const fn = await core.resolveFunction(
  { name: 'bench-echo', runtime: 'nodejs22.x', handler: 'index.handler', code: codeDir, image },
  { root: here },
);
const backend = new core.KubernetesBackend({ kubeconfig, namespace, log: () => {} });
const cluster = core.clusterClient({ kubeconfig });
const payload = (n) => Buffer.from(JSON.stringify({ n }));

async function poolCold() {
  const pool = new core.WarmPool({ backend, runId: `bench-${randomUUID().slice(0, 8)}` });
  pool.register(fn);
  const t0 = performance.now();
  const out = await pool.invoke('bench-echo', payload(0));
  const elapsed = performance.now() - t0;
  if (out.kind !== 'success' || !out.coldStart) throw new Error(`unexpected pool outcome ${out.kind}`);
  await pool.stopAll();
  return elapsed;
}

// ---- raw side: the same Pod created directly, its code ConfigMaps stored once beforehand ----
const rawLabels = { 'dev.lambda-testkit.bench': 'raw' };
const rawPayload = await buildCodePayload(fn, `ltk-bench-raw-${randomUUID().slice(0, 8)}`);
for (const body of payloadConfigMaps(rawPayload, { labels: rawLabels, annotations: {} })) {
  await cluster.core.createNamespacedConfigMap({ namespace, body });
}

async function firstRequest(port, deadline) {
  for (;;) {
    const client = new Client(`http://127.0.0.1:${port}`);
    try {
      const res = await client.request({ method: 'POST', path: INVOKE_PATH, body: JSON.stringify({ n: 0 }) });
      const body = await res.body.text();
      if (res.statusCode === 200) return body;
    } catch {
      // not listening yet
    } finally {
      await client.close().catch(() => {});
    }
    if (performance.now() > deadline) throw new Error('raw Pod did not answer');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rawCold() {
  const name = `ltk-bench-raw-${randomUUID().slice(0, 8)}`;
  const environment = {
    ...sandboxEnvironment(fn, {
      runId: 'raw',
      instanceId: name,
      region: 'us-east-1',
      accountId: '123456789012',
    }),
    LAMBDA_TESTKIT_RUNTIME: fn.runtime,
  };
  delete environment.AWS_LAMBDA_RUNTIME_API;
  const body = instancePod({
    name,
    image,
    handler: fn.handler,
    environment,
    memorySizeMb: fn.memorySize,
    labels: rawLabels,
    annotations: {},
    ownerReferences: [],
    payload: payloadVolume(rawPayload, 'code'),
    imagePullPolicy: 'IfNotPresent',
  });
  const t0 = performance.now();
  await cluster.core.createNamespacedPod({ namespace, body });
  for (;;) {
    const pod = await cluster.core.readNamespacedPod({ name, namespace });
    if (pod.status?.containerStatuses?.[0]?.state?.running) break;
    if (performance.now() - t0 > 120_000) throw new Error('raw Pod did not run');
    await new Promise((r) => setTimeout(r, 50));
  }
  const forward = await forwardPodPort(cluster.config, namespace, name, 8080);
  await firstRequest(forward.port, t0 + 120_000);
  const elapsed = performance.now() - t0;
  await forward.close();
  await cluster.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
  return elapsed;
}

console.log(
  `kubernetes-backend bench: image ${image}, namespace ${namespace}, ${COLD_RUNS} cold runs per side, ${WARM_ITERATIONS} warm invokes per side`,
);
try {
  // One unmeasured launch each: the backend's first launch also sweeps, takes its Lease and stores the code.
  await poolCold();
  await rawCold();
  const cold = { pool: [], raw: [] };
  for (let i = 0; i < COLD_RUNS; i++) {
    if (i % 2 === 0) {
      cold.pool.push(await poolCold());
      cold.raw.push(await rawCold());
    } else {
      cold.raw.push(await rawCold());
      cold.pool.push(await poolCold());
    }
  }

  // ---- warm: one pool instance; direct clients through its port-forward and to its Pod IP ----
  const pool = new core.WarmPool({ backend, runId: `bench-${randomUUID().slice(0, 8)}` });
  pool.register(fn);
  await pool.invoke('bench-echo', payload(0));
  const endpoint = pool.list()[0].endpoint;
  const podName = backend.instances()[0].podName;
  const pod = await cluster.core.readNamespacedPod({ name: podName, namespace });
  const viaForward = new Client(endpoint, { connections: 1, pipelining: 1 });
  const viaPodIp = new Client(`http://${pod.status.podIP}:8080`, { connections: 1, pipelining: 1 });
  const direct = (client) => async (n) => {
    const res = await client.request({ method: 'POST', path: INVOKE_PATH, body: payload(n) });
    await res.body.arrayBuffer();
  };
  const sides = {
    pool: (n) => pool.invoke('bench-echo', payload(n)),
    forward: direct(viaForward),
    podIp: direct(viaPodIp),
  };
  for (let i = 0; i < WARMUP; i++) for (const f of Object.values(sides)) await f(i);
  const warm = { pool: [], forward: [], podIp: [] };
  const order = Object.keys(sides);
  for (let done = 0, round = 0; done < WARM_ITERATIONS; done += BLOCK, round++) {
    for (const side of order.map((_, i) => order[(i + round) % order.length])) {
      for (let i = 0; i < BLOCK; i++) {
        const t0 = performance.now();
        await sides[side](i);
        warm[side].push(performance.now() - t0);
      }
    }
  }
  await viaForward.close();
  await viaPodIp.close();
  await pool.stopAll();

  const c = { pool: summary(cold.pool), raw: summary(cold.raw) };
  const w = { pool: summary(warm.pool), forward: summary(warm.forward), podIp: summary(warm.podIp) };
  console.log('');
  console.log('                  pool (KubernetesBackend)   Pod created directly       ratio');
  console.log(
    `cold start p50    ${ms(c.pool.p50).padEnd(26)} ${ms(c.raw.p50).padEnd(26)} ${(c.pool.p50 / c.raw.p50).toFixed(2)}×`,
  );
  console.log(`cold start p99    ${ms(c.pool.p99).padEnd(26)} ${ms(c.raw.p99).padEnd(26)}`);
  console.log('');
  console.log('                  pool via port-forward      direct via port-forward    direct to Pod IP');
  console.log(
    `warm invoke p50   ${ms(w.pool.p50).padEnd(26)} ${ms(w.forward.p50).padEnd(26)} ${ms(w.podIp.p50)}`,
  );
  console.log(
    `warm invoke p99   ${ms(w.pool.p99).padEnd(26)} ${ms(w.forward.p99).padEnd(26)} ${ms(w.podIp.p99)}`,
  );
  console.log('');
  console.log(
    `pool overhead over its own port-forward: +${ms(w.pool.p50 - w.forward.p50)} at p50; ` +
      `the port-forward itself: +${ms(w.forward.p50 - w.podIp.p50)} over the Pod IP`,
  );
} finally {
  await backend.close();
  for (const m of rawPayload.maps) {
    await cluster.core.deleteNamespacedConfigMap({ name: m.name, namespace }).catch(() => {});
  }
}
