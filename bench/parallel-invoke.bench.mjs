#!/usr/bin/env node
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { INVOKE_SECRET_HEADER, RIE_INVOKE_PATH } from '../packages/core/src/emulator/protocol.ts';
import { millis, summary, verdict } from './lib/report.mjs';
import {
  ensureBuilt,
  parallelProjectDir,
  runVitestCollecting,
  writeParallelProject,
} from './lib/suite-project.mjs';

const FILES = Number(process.env.BENCH_PARALLEL_FILES ?? 4);
const TESTS = Number(process.env.BENCH_PARALLEL_TESTS ?? 40);
const BLOCK = Number(process.env.BENCH_PARALLEL_BLOCK ?? 25);
const WARMUP = Number(process.env.BENCH_PARALLEL_WARMUP ?? 50);

ensureBuilt();
writeParallelProject({
  files: FILES,
  tests: TESTS,
  block: BLOCK,
  warmup: WARMUP,
  invokePath: RIE_INVOKE_PATH,
  secretHeader: INVOKE_SECRET_HEADER,
});
const samplesDir = mkdtempSync(join(tmpdir(), 'ltk-parallel-bench-'));

const { code, output } = await runVitestCollecting(parallelProjectDir, ['--config', 'vitest.config.mjs'], {
  LAMBDA_TESTKIT_BACKEND: 'process',
  BENCH_SAMPLES_DIR: samplesDir,
});
if (code !== 0) {
  console.error(output);
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
