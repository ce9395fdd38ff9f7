#!/usr/bin/env node
// The cost of freezing the runtime between invocations (SIGSTOP after it asks for the next event,
// SIGCONT before the event is written), measured side by side in one run: warm invokes through the
// WarmPool on the process backend, one instance frozen between calls (the default) and one with
// LAMBDA_TESTKIT_FREEZE=false, in alternating blocks so both see the same machine load. The Docker
// backend's local image runs the same emulator code inside the container, so the freeze costs the same
// two signals there.
//
//   pnpm bench -- freeze
//   BENCH_WARM_ITERATIONS=2000 node bench/freeze.bench.mjs
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as core from '../packages/core/src/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const codeDir = join(here, 'process-backend.fixture');
const WARM_ITERATIONS = Number(process.env.BENCH_WARM_ITERATIONS ?? 2000);
const WARMUP = 200;
const BLOCK = 100;

const spec = (name, environment) => ({
  name,
  runtime: 'nodejs22.x',
  handler: 'index.handler',
  code: codeDir,
  ...(environment ? { environment } : {}),
});
const frozenFn = await core.resolveFunction(spec('bench-frozen'), { root: here });
const thawedFn = await core.resolveFunction(spec('bench-unfrozen', { LAMBDA_TESTKIT_FREEZE: 'false' }), {
  root: here,
});
const backend = new core.ProcessBackend();
const pool = new core.WarmPool({ backend, runId: `bench-${randomUUID().slice(0, 8)}`, maxConcurrency: 1 });
pool.register(frozenFn);
pool.register(thawedFn);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}
async function invoke(name, n) {
  const outcome = await pool.invoke(name, Buffer.from(JSON.stringify({ n })));
  if (outcome.kind !== 'success') throw new Error(`invoke failed: ${outcome.payload.toString()}`);
}

try {
  for (let i = 0; i < WARMUP; i++) {
    await invoke(frozenFn.name, i);
    await invoke(thawedFn.name, i);
  }
  const samples = { frozen: [], thawed: [] };
  for (let done = 0; done < WARM_ITERATIONS; done += BLOCK) {
    for (const [side, name] of [
      ['thawed', thawedFn.name],
      ['frozen', frozenFn.name],
    ]) {
      for (let i = 0; i < BLOCK; i++) {
        const t0 = performance.now();
        await invoke(name, i);
        samples[side].push(performance.now() - t0);
      }
    }
  }
  const thawed = summary(samples.thawed);
  const frozen = summary(samples.frozen);
  const fmt = (ms) => ms.toFixed(3).padStart(12);
  console.log(
    `freeze bench — node ${process.version}, ${availableParallelism()} CPUs, process backend, WarmPool`,
  );
  console.log(`warm invokes: ${WARM_ITERATIONS} per side (after ${WARMUP} warm-up), blocks of ${BLOCK}\n`);
  console.log(`${''.padEnd(24)}${'no freeze'.padStart(12)}${'freeze'.padStart(12)}${'ratio'.padStart(10)}`);
  const row = (label, a, b) =>
    console.log(`${label.padEnd(24)}${fmt(a)}${fmt(b)}${`${(b / a).toFixed(2)}×`.padStart(10)}`);
  row('warm invoke p50 (ms)', thawed.p50, frozen.p50);
  row('warm invoke p99 (ms)', thawed.p99, frozen.p99);
  console.log(`\nfreeze cost at p50: ${(frozen.p50 - thawed.p50).toFixed(3)} ms per invoke`);
} finally {
  await pool.stopAll();
  await backend.close();
}
