#!/usr/bin/env node
// Process backend vs calling the handler in-process, measured side by side in one run:
// cold start (launch + first invoke) and warm invoke p50/p99, their ratios, and the warm
// overhead in ms at p50 (issue 3 target: under 1 ms).
//
// Cold starts are measured against the floor of any process sandbox: starting Node that requires
// the same handler and calls it once, timed until its result arrives (issue 12 targets: p50 ≤ 60 ms
// and ≤ 1.5× that floor). The backend's cold start is taken twice: with a spare runtime ready (what
// a launch finds once a run has launched that kind of function; spareRuntimes: 1, the default) and
// on demand (spareRuntimes: 0: Node is started and the bootstrap loaded after the launch asks).
//
//   pnpm bench -- process-backend
//   BENCH_COLD_RUNS=5 BENCH_WARM_ITERATIONS=2000 node bench/process-backend.bench.mjs
//
// The warm phase also measures CPU per warm invoke: this process's (the pool and the emulator:
// process.cpuUsage) and the runtime's (/proc/<pid>/stat of this process's descendants), next to the
// CPU of a bare HTTP round trip measured in the same alternation: undici keep-alive calling a
// node:http echo server in a child process, the floor of one process crossing each way.
//
// The invocations go through the WarmPool (what users get). Core is imported from this checkout's
// TypeScript sources (Node strips the types), so the bench runs alone without a build, and never
// measures a stale dist/.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';
import { detectConfinement, prepareConfinement } from '../packages/core/src/backends/process/confine.ts';
import * as core from '../packages/core/src/index.ts';
import { millis, summary, times, verdict } from './lib/report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const codeDir = join(here, 'process-backend.fixture');
const handlerFile = join(codeDir, 'index.js');
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 5);
const WARM_ITERATIONS = Number(process.env.BENCH_WARM_ITERATIONS ?? 2000);
const WARMUP = 200;
const BLOCK = 100;

const fn = await core.resolveFunction(
  { name: 'bench-echo', runtime: 'nodejs22.x', handler: 'index.handler', code: codeDir },
  { root: here },
);
const runId = `bench-${randomUUID().slice(0, 8)}`;
const backend = new core.ProcessBackend();
const onDemand = new core.ProcessBackend({ spareRuntimes: 0 });
const requireFresh = createRequire(import.meta.url);

// ---- in-process side: the same handler, required fresh for a cold start ----
async function inProcessCold() {
  delete requireFresh.cache[handlerFile];
  const t0 = performance.now();
  const { handler } = requireFresh(handlerFile);
  await handler({ n: 0 });
  return performance.now() - t0;
}
const { handler: inProcessHandler } = requireFresh(handlerFile);
const inProcessInvoke = (n) => inProcessHandler({ n });

// ---- the floor: a fresh Node that requires the handler and calls it once ----
const floorScript = `require(${JSON.stringify(handlerFile)}).handler({ n: 0 }).then((r) => process.stdout.write(JSON.stringify(r) + '\\n'))`;
function nodeImportCold() {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['-e', floorScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(performance.now() - t0);
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`node exited with ${code} before answering`));
    });
  });
}

// ---- process-backend side ----
/** A started target: `invoke(n)` and `stop()`. Launch + first invoke is the cold start. */
async function startTarget(on = backend) {
  const pool = new core.WarmPool({ backend: on, runId, maxConcurrency: 1 });
  pool.register(fn);
  return {
    invoke: async (n) => {
      const outcome = await pool.invoke(fn.name, Buffer.from(JSON.stringify({ n })));
      if (outcome.kind !== 'success') throw new Error(`invoke failed: ${outcome.payload.toString()}`);
    },
    stop: () => pool.stopAll(),
  };
}

async function processCold(on) {
  // Not timed: the spare the previous launch asked for finishes loading (a no-op on demand).
  await on.sparesReady();
  const t0 = performance.now();
  const target = await startTarget(on);
  await target.invoke(0);
  const ms = performance.now() - t0;
  await target.stop();
  return ms;
}

// ---- CPU per call: this process, its descendants (the runtime), and a bare HTTP round trip ----
/** CPU ms (user + system, all threads) `pid` has used so far (proc(5): utime, stime); NaN without /proc. */
function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}
/** Every process below `pid` (the runtimes the emulator in this process started, and their children). */
function descendants(pid) {
  const out = [];
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const task of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {}
    for (const child of children.split(' ').filter(Boolean).map(Number))
      out.push(child, ...descendants(child));
  }
  return out;
}
/** CPU ms of `pids` together (a process that is gone counts 0). */
const cpuOfMs = (pids) => pids.reduce((sum, pid) => sum + (processCpuMs(pid) || 0), 0);

/** A node:http server in a child process that answers each POST with its body (keep-alive). */
const echoScript = `const http = require('node:http');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));`;
async function startEcho() {
  const child = spawn(process.execPath, ['-e', echoScript], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (chunk) => resolve(Number(String(chunk).trim())));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the echo server exited with ${code}`)));
  });
  // One connection, kept alive, one request at a time: as the pool's client of an instance.
  const client = new Client(`http://127.0.0.1:${port}`, { pipelining: 1 });
  return {
    pid: child.pid,
    call: async (n) => {
      const res = await client.request({
        method: 'POST',
        path: '/',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ n }),
      });
      await res.body.arrayBuffer();
      if (res.statusCode !== 200) throw new Error(`echo answered ${res.statusCode}`);
    },
    stop: async () => {
      await client.close();
      child.kill();
    },
  };
}

// ---- the confinement launcher alone: a bare `node -e 0` started directly, or as a confined runtime
// is (instance folders, mount table, unshare → sh → mount → exec), so its cost shows without the
// noise of a whole cold start ----
const CONFINE_RUNS = Number(process.env.BENCH_CONFINE_RUNS ?? 40);
const runToExit = (file, args) =>
  new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${file} exited ${code}`))));
  });
/**
 * CPU time (user + system, ms) of this process's waited-for children so far (proc(5): cutime, cstime):
 * what the starts cost the machine, which a loaded machine does not inflate as it does wall time.
 */
function childCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}
async function measured(start, cpu) {
  const before = childCpuMs();
  const ms = await start();
  cpu.total += childCpuMs() - before;
  return ms;
}
async function bareStart() {
  const t0 = performance.now();
  await runToExit(process.execPath, ['-e', '0']);
  return performance.now() - t0;
}
async function confinedStart(tools, root, i) {
  const t0 = performance.now();
  const dir = join(root, `i-${i}`);
  const folders = {
    task: join(dir, 'task'),
    opt: join(dir, 'opt'),
    runtime: join(dir, 'runtime'),
    tmp: join(dir, 'tmp'),
  };
  await mkdir(dir);
  await Promise.all(Object.values(folders).map((f) => mkdir(f)));
  const launch = await prepareConfinement({ dir, folders, node: process.execPath, keep: [] }, tools);
  const [file, ...args] = launch.wrapper;
  await runToExit(file, [...args, process.execPath, '-e', '0']);
  return performance.now() - t0;
}

try {
  const support = await detectConfinement();
  const launcher = { bare: [], confined: [], cpu: { bare: { total: 0 }, confined: { total: 0 } } };
  if (support.available) {
    const root = await mkdtemp(join(tmpdir(), 'ltk-bench-confine-'));
    try {
      for (let i = 0; i < CONFINE_RUNS; i++) {
        launcher.bare.push(await measured(bareStart, launcher.cpu.bare));
        launcher.confined.push(
          await measured(() => confinedStart(support.tools, root, i), launcher.cpu.confined),
        );
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  } else {
    console.log(`confinement unavailable here (${support.reason}): its cost is not measured`);
  }
  // One launch of each kind first (not counted): it starts the compile cache and the first spare.
  await processCold(backend);
  await processCold(onDemand);
  await nodeImportCold();
  const cold = { inProcess: [], process: [], node: [], onDemand: [] };
  for (let i = 0; i < COLD_RUNS; i++) {
    cold.inProcess.push(await inProcessCold());
    cold.node.push(await nodeImportCold());
    cold.process.push(await processCold(backend));
    cold.onDemand.push(await processCold(onDemand));
  }

  const target = await startTarget();
  await target.invoke(0);
  const echo = await startEcho();
  for (let i = 0; i < WARMUP; i++) {
    await target.invoke(i);
    await inProcessInvoke(i);
    await echo.call(i);
  }
  // The runtime and its children: every process below this one but the echo server (the spare
  // runtimes waiting for a function use no CPU).
  const runtimes = descendants(process.pid).filter((pid) => pid !== echo.pid);
  // CPU µs summed over the blocks of each side: this process, and the process(es) across the socket.
  const cpu = { process: { here: 0, there: 0 }, bare: { here: 0, there: 0 } };
  const measureCpu = async (side, others, block) => {
    const there0 = cpuOfMs(others);
    const here0 = process.cpuUsage();
    await block();
    const here = process.cpuUsage(here0);
    cpu[side].here += here.user + here.system;
    cpu[side].there += (cpuOfMs(others) - there0) * 1000;
  };
  // Alternating blocks: every side sees the same machine load over the run.
  const warm = { inProcess: [], process: [] };
  for (let done = 0; done < WARM_ITERATIONS; done += BLOCK) {
    for (let i = 0; i < BLOCK; i++) {
      const t0 = performance.now();
      await inProcessInvoke(i);
      warm.inProcess.push(performance.now() - t0);
    }
    await measureCpu('process', runtimes, async () => {
      for (let i = 0; i < BLOCK; i++) {
        const t0 = performance.now();
        await target.invoke(i);
        warm.process.push(performance.now() - t0);
      }
    });
    await measureCpu('bare', [echo.pid], async () => {
      for (let i = 0; i < BLOCK; i++) await echo.call(i);
    });
  }
  await target.stop();
  await echo.stop();

  const c = {
    inProcess: summary(cold.inProcess),
    process: summary(cold.process),
    node: summary(cold.node),
    onDemand: summary(cold.onDemand),
  };
  const w = { inProcess: summary(warm.inProcess), process: summary(warm.process) };
  const fmt = (ms) => (ms < 0.1 ? ms.toFixed(4) : ms < 10 ? ms.toFixed(3) : ms.toFixed(1)).padStart(10);
  const ratio = (a, b) => `${(a / b).toFixed(0)}×`.padStart(10);
  console.log(
    `process-backend bench — node ${process.version}, ${availableParallelism()} CPUs, through WarmPool`,
  );
  console.log(
    `cold runs: ${COLD_RUNS}, warm invokes: ${WARM_ITERATIONS} per side (after ${WARMUP} warm-up)\n`,
  );
  console.log(`${''.padEnd(24)}${'in-process'.padStart(10)}${'process'.padStart(10)}${'ratio'.padStart(10)}`);
  const row = (label, a, b) => console.log(`${label.padEnd(24)}${fmt(a)}${fmt(b)}${ratio(b, a)}`);
  row('cold start p50 (ms)', c.inProcess.p50, c.process.p50);
  row('cold start max (ms)', Math.max(...cold.inProcess), Math.max(...cold.process));
  row('warm invoke p50 (ms)', w.inProcess.p50, w.process.p50);
  row('warm invoke p99 (ms)', w.inProcess.p99, w.process.p99);
  console.log('');
  const floorRow = (label, s) =>
    console.log(
      `${label.padEnd(40)}${s.p50.toFixed(1).padStart(9)} ms p50${s.max.toFixed(1).padStart(9)} ms max` +
        `${`${(s.p50 / c.node.p50).toFixed(2)}×`.padStart(9)}`,
    );
  console.log(
    `${'cold start, each side'.padEnd(40)}${'p50'.padStart(12)}${'max'.padStart(16)}${'/ node'.padStart(9)}`,
  );
  floorRow('node + require handler + call', c.node);
  floorRow('process backend, spare ready', c.process);
  floorRow('process backend, on demand (no spare)', c.onDemand);
  const overhead = w.process.p50 - w.inProcess.p50;
  if (support.available) {
    const l = { bare: summary(launcher.bare), confined: summary(launcher.confined) };
    const f = (ms) => ms.toFixed(1).padStart(10);
    console.log(
      `\n${`node -e 0, ${CONFINE_RUNS} starts per side`.padEnd(37)}${'direct'.padStart(10)}${'confined'.padStart(10)}${'ratio'.padStart(10)}`,
    );
    const launchRow = (label, a, b) =>
      console.log(`${label.padEnd(37)}${f(a)}${f(b)}${`${(b / a).toFixed(2)}×`.padStart(10)}`);
    launchRow('start to exit p50 (ms)', l.bare.p50, l.confined.p50);
    launchRow('start to exit p99 (ms)', l.bare.p99, l.confined.p99);
    const cpu = {
      bare: launcher.cpu.bare.total / CONFINE_RUNS,
      confined: launcher.cpu.confined.total / CONFINE_RUNS,
    };
    launchRow('CPU of the children, mean (ms)', cpu.bare, cpu.confined);
    launcher.cost = l.confined.p50 - l.bare.p50;
    launcher.cpuCost = cpu.confined - cpu.bare;
  }
  const perCall = (side) => ({
    here: cpu[side].here / WARM_ITERATIONS,
    there: cpu[side].there / WARM_ITERATIONS,
  });
  const cp = { process: perCall('process'), bare: perCall('bare') };
  const us = (v) => (Number.isFinite(v) ? v.toFixed(0) : 'n/a').padStart(14);
  const x = (a, b) => (Number.isFinite(a / b) ? `${(a / b).toFixed(1)}×` : 'n/a').padStart(14);
  console.log(
    `\n${`CPU per call, µs (user + system, ${WARM_ITERATIONS} calls)`.padEnd(46)}` +
      `${'this process'.padStart(14)}${'across socket'.padStart(14)}${'both'.padStart(14)}`,
  );
  console.log(
    `${'process backend warm invoke'.padEnd(46)}${us(cp.process.here)}${us(cp.process.there)}` +
      `${us(cp.process.here + cp.process.there)}`,
  );
  console.log(
    `${'bare HTTP round trip (undici → node:http)'.padEnd(46)}${us(cp.bare.here)}${us(cp.bare.there)}` +
      `${us(cp.bare.here + cp.bare.there)}`,
  );
  console.log(
    `${'ratio'.padEnd(46)}${x(cp.process.here, cp.bare.here)}${x(cp.process.there, cp.bare.there)}` +
      `${x(cp.process.here + cp.process.there, cp.bare.here + cp.bare.there)}`,
  );
  console.log(
    '(this process: the pool, its HTTP client and the emulator; across the socket: the runtime, or the echo server)',
  );
  console.log('');
  verdict('process cold start p50', c.process.p50, 60, millis);
  // A runtime started on demand pays the namespace in its start (a spare made it ahead).
  if (support.available) {
    verdict('confinement launcher p50 cost over a bare node start', launcher.cost, 10, millis);
    verdict('confinement launcher CPU cost over a bare node start', launcher.cpuCost, 10, millis);
  }
  verdict('process cold start p50 / node+import', c.process.p50 / c.node.p50, 1.5, times);
  verdict('process warm overhead p50 over in-process', overhead, 1, millis);
} finally {
  await backend.close();
  await onDemand.close();
}
