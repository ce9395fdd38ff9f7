#!/usr/bin/env node
// Warm invokes through the `lambda` fixture from parallel test files (issue 12): 4 Vitest workers
// invoke at once, each its own prewarmed function on the process backend, and in alternating blocks
// send the same event straight to that function's instance (one keep-alive connection, the invoke
// secret). The overhead is what the fixture path adds (worker client → pool server → pool → the same
// instance) at p50. Target: ≤ 1 ms.
//
//   pnpm bench -- parallel-invoke
//   BENCH_PARALLEL_TESTS=40 BENCH_PARALLEL_BLOCK=25 node --conditions=lambda-testkit-source bench/parallel-invoke.bench.mjs
//
// Variables: BENCH_PARALLEL_FILES (4 files = 4 workers), BENCH_PARALLEL_TESTS (40 tests per file),
// BENCH_PARALLEL_BLOCK (25 calls per side per test), BENCH_PARALLEL_WARMUP (50 per side).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { INVOKE_SECRET_HEADER, RIE_INVOKE_PATH } from '../packages/core/src/emulator/protocol.ts';
import { millis, summary, verdict } from './lib/report.mjs';
import {
  parallelProjectDir,
  sourceConditionEnv,
  vitestBin,
  writeParallelProject,
} from './lib/suite-project.mjs';

const FILES = Number(process.env.BENCH_PARALLEL_FILES ?? 4);
const TESTS = Number(process.env.BENCH_PARALLEL_TESTS ?? 40);
const BLOCK = Number(process.env.BENCH_PARALLEL_BLOCK ?? 25);
const WARMUP = Number(process.env.BENCH_PARALLEL_WARMUP ?? 50);

writeParallelProject({
  files: FILES,
  tests: TESTS,
  block: BLOCK,
  warmup: WARMUP,
  invokePath: RIE_INVOKE_PATH,
  secretHeader: INVOKE_SECRET_HEADER,
});
const samplesDir = mkdtempSync(join(tmpdir(), 'ltk-parallel-bench-'));

const code = await new Promise((resolve, reject) => {
  const child = spawn(process.execPath, [vitestBin, 'run', '--config', 'vitest.config.mjs'], {
    cwd: parallelProjectDir,
    env: {
      ...process.env,
      ...sourceConditionEnv,
      NO_COLOR: '1',
      LAMBDA_TESTKIT_BACKEND: 'process',
      BENCH_SAMPLES_DIR: samplesDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => {
    output += c;
  });
  child.stderr.on('data', (c) => {
    output += c;
  });
  child.on('error', reject);
  child.on('close', (status) => {
    if (status !== 0) console.error(output);
    resolve(status);
  });
});
if (code !== 0) {
  rmSync(samplesDir, { recursive: true, force: true });
  throw new Error(`vitest exited with ${code}`);
}

const pool = [];
const direct = [];
for (let k = 0; k < FILES; k++) {
  const s = JSON.parse(readFileSync(join(samplesDir, `w${k}.json`), 'utf8'));
  pool.push(...s.pool);
  direct.push(...s.direct);
}
rmSync(samplesDir, { recursive: true, force: true });

const p = summary(pool);
const d = summary(direct);
console.log(
  `parallel warm-invoke bench — node ${process.version}, ${availableParallelism()} CPUs, ${FILES} Vitest workers ` +
    `invoking at once, ${p.n} calls per side (after ${WARMUP} warm-up calls per side and worker)\n`,
);
console.log(
  `${''.padEnd(18)}${'fixture → pool'.padStart(16)}${'direct'.padStart(12)}${'overhead'.padStart(12)}`,
);
for (const key of ['p50', 'p99']) {
  console.log(
    `${`warm invoke ${key}`.padEnd(18)}${millis(p[key]).padStart(16)}${millis(d[key]).padStart(12)}${millis(p[key] - d[key]).padStart(12)}`,
  );
}
console.log('');
verdict(`warm invoke overhead p50, ${FILES} parallel files`, p.p50 - d.p50, 1, millis);
