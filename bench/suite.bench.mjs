#!/usr/bin/env node
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLocalImage } from '../test/image/local-image.ts';
import { times, verdict } from './lib/report.mjs';
import { ensureBuilt, projectDir, runVitestCollecting, writeSuiteProject } from './lib/suite-project.mjs';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
const ROUNDS = Number(process.env.BENCH_SUITE_ROUNDS ?? 1);
const BACKENDS = (process.env.BENCH_SUITE_BACKENDS ?? 'process,docker').split(',').filter(Boolean);
const FILES = Number(process.env.BENCH_SUITE_FILES ?? 4);
const TESTS = Number(process.env.BENCH_SUITE_TESTS ?? 50);
const FUNCTIONS = Number(process.env.BENCH_SUITE_FUNCTIONS ?? 10);
const WORKERS = Number(process.env.BENCH_SUITE_WORKERS ?? 4);
const VARIANTS = (process.env.BENCH_SUITE_VARIANTS ?? 'prewarm,wait,prewarm+wait')
  .split(',')
  .filter((v) => v && v !== 'none');
const WAIT_MS = Number(process.env.BENCH_SUITE_WAIT_MS ?? 100);
const TOTAL = FILES * TESTS;

ensureBuilt();
writeSuiteProject({ files: FILES, tests: TESTS, functions: FUNCTIONS, workers: WORKERS });
const image = BACKENDS.includes('docker')
  ? (await ensureLocalImage({ onProgress: (m) => console.error(`  ${m}`) })).tag
  : undefined;

/** The runs of one round, by label. */
const runs = [
  { label: 'in-process', config: 'vitest.inprocess.config.mjs', env: {} },
  { label: 'floor', config: 'vitest.floor.config.mjs', env: {} },
];
for (const backend of BACKENDS) {
  const env = { LAMBDA_TESTKIT_BACKEND: backend, LAMBDA_TESTKIT_IMAGE: backend === 'docker' ? image : '' };
  if (backend === 'docker')
    runs.push({ label: 'docker floor', config: 'vitest.floor-docker.config.mjs', env });
  runs.push({ label: backend, config: 'vitest.lambda.config.mjs', env });
  const prewarm = { BENCH_SUITE_PREWARM: '1' };
  const wait = { BENCH_SUITE_SCALE_OUT_WAIT_MS: String(WAIT_MS) };
  const variants = {
    prewarm: { label: `${backend} prewarm`, env: prewarm },
    wait: { label: `${backend} wait ${WAIT_MS}ms`, env: wait },
    'prewarm+wait': { label: `${backend} prewarm+wait`, env: { ...prewarm, ...wait } },
  };
  for (const name of VARIANTS) {
    const variant = variants[name];
    if (!variant)
      throw new Error(
        `BENCH_SUITE_VARIANTS: unknown variant "${name}" (${Object.keys(variants).join(', ')})`,
      );
    runs.push({ label: variant.label, config: 'vitest.lambda.config.mjs', env: { ...env, ...variant.env } });
  }
}

/** The lambda-testkit table of a run's output: instances started and the warm p50 per function. */
function parseTable(output) {
  const lines = output.split('\n');
  const head = lines.findIndex((l) => /^function\s+invokes\s+cold\s+warm\s+p50 ms/.test(l));
  if (head < 0) return undefined;
  let cold = 0;
  let invokes = 0;
  const p50s = [];
  for (const line of lines.slice(head + 1)) {
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+/.exec(line);
    if (!m) break;
    invokes += Number(m[2]);
    cold += Number(m[3]);
    p50s.push(Number(m[5]));
  }
  p50s.sort((a, b) => a - b);
  return { cold, invokes, p50: p50s[Math.floor(p50s.length / 2)] };
}

/** One `vitest run`: wall time from spawn to exit; fails the bench when a test did not pass. */
async function runVitest(run) {
  const reportDir = mkdtempSync(join(tmpdir(), 'ltk-suite-bench-'));
  const reportFile = join(reportDir, 'report.json');
  const { code, output, wallMs } = await runVitestCollecting(
    projectDir,
    ['--config', run.config, '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`],
    run.env,
  );
  let report;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8'));
  } catch {
    report = undefined;
  }
  rmSync(reportDir, { recursive: true, force: true });
  if (code !== 0 || report?.numPassedTests !== TOTAL) {
    throw new Error(
      `${run.label}: vitest exited ${code}, ${report?.numPassedTests} of ${TOTAL} passed:\n${output}`,
    );
  }
  return { wallMs, table: parseTable(output) };
}

console.log(
  `suite bench — node ${process.version}, ${availableParallelism()} CPUs, ${FILES} files × ${TESTS} tests over ` +
    `${FUNCTIONS} functions, maxWorkers ${WORKERS}, ${ROUNDS} round(s)${image ? `, image ${image}` : ''}\n`,
);
const results = new Map(runs.map((r) => [r.label, []]));
for (let round = 0; round < ROUNDS; round++) {
  // Alternate the order so both ends of a round see the same machine load.
  const order = round % 2 === 0 ? runs : [...runs].reverse();
  for (const run of order) {
    const r = await runVitest(run);
    results.get(run.label).push(r);
    const t = r.table;
    console.error(
      `  round ${round + 1} ${run.label.padEnd(22)} ${(r.wallMs / 1000).toFixed(2)} s` +
        (t ? `  (${t.cold} cold starts, warm p50 ${t.p50} ms)` : ''),
    );
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const baseline = median(results.get('in-process').map((r) => r.wallMs));
console.log(
  `${'run'.padEnd(24)}${'wall (median)'.padStart(14)}${'ratio'.padStart(9)}${'cold starts'.padStart(13)}${'p50 ms'.padStart(9)}`,
);
const ratios = new Map();
for (const run of runs) {
  const rs = results.get(run.label);
  const wall = median(rs.map((r) => r.wallMs));
  const ratio = wall / baseline;
  ratios.set(run.label, ratio);
  const tables = rs.map((r) => r.table).filter(Boolean);
  const cold = tables.length ? String(median(tables.map((t) => t.cold))) : '-';
  const p50 = tables.length ? String(median(tables.map((t) => t.p50))) : '-';
  console.log(
    `${run.label.padEnd(24)}${`${(wall / 1000).toFixed(2)} s`.padStart(14)}${times(ratio).padStart(9)}${cold.padStart(13)}${p50.padStart(9)}`,
  );
}
console.log('');
// The floor is no goal: it shows how much of a ratio any process-per-function design pays here.
for (const label of ['process', 'process prewarm+wait', 'docker', 'docker prewarm+wait']) {
  const floorLabel = label.startsWith('docker') ? 'docker floor' : 'floor';
  const floor = ratios.get(floorLabel);
  if (ratios.has(label) && floor)
    console.log(
      `${label} / ${floorLabel}: ${times(ratios.get(label) / floor)} (${floorLabel} / in-process ${times(floor)})`,
    );
}
console.log('');
if (ratios.has('process'))
  verdict('suite on process backend / in-process', ratios.get('process'), 1.5, times);
if (ratios.has('docker')) verdict('suite on Docker backend / in-process', ratios.get('docker'), 2, times);
