#!/usr/bin/env node
// The one test command (`pnpm test`): typecheck, lint, build, then every suite of every runner.
// It ends with `tests: N passed, N failed` summed over all runners, and exits non-zero on any failure.
//
//   pnpm test                 everything (Docker suites need a running engine and fail loudly without one)
//   pnpm test -- --no-static  skip typecheck/lint/build (a quicker inner loop)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const outDir = mkdtempSync(join(tmpdir(), 'ltk-test-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
let stepFailures = 0;

function run(label, cmd, cmdArgs, opts = {}) {
  console.log(`\n▶ ${label}: ${cmd} ${cmdArgs.join(' ')}${opts.cwd ? `  (in ${opts.cwd})` : ''}`);
  const r = spawnSync(cmd, cmdArgs, {
    stdio: 'inherit',
    cwd: opts.cwd ?? root,
    env: { ...process.env, ...opts.env },
  });
  if (r.status !== 0) console.log(`✖ ${label} exited with ${r.status ?? r.signal}`);
  return r.status === 0;
}

function countVitest(file, label) {
  if (!existsSync(file)) {
    console.log(`✖ ${label}: no report written (the runner crashed before reporting)`);
    totals.failed += 1;
    return;
  }
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    // A cut-off report must not end the run without its closing line.
    console.log(`✖ ${label}: unreadable report ${file} (${error.message})`);
    totals.failed += 1;
    return;
  }
  totals.passed += report.numPassedTests;
  totals.failed += report.numFailedTests;
  // Skipped and todo tests are neither passes nor failures; they are counted so none goes unseen.
  totals.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite file that failed to load counts as a failure even when it declared no test.
  const brokenFiles = report.testResults.filter(
    (t) => t.status === 'failed' && t.assertionResults.length === 0,
  );
  totals.failed += brokenFiles.length;
}

// Jest's --json report has the same top-level counters as Vitest's json reporter.
const countJest = countVitest;

if (!args.has('--no-static')) {
  for (const [label, script] of [
    ['typecheck', 'typecheck'],
    ['lint', 'lint'],
    ['build', 'build'],
  ]) {
    if (!run(label, 'pnpm', ['run', script])) stepFailures += 1;
  }
}

// 1. Vitest: every project of the root vitest.config.ts (unit, cross-package, Docker).
{
  const file = join(outDir, 'vitest.json');
  run('vitest', 'pnpm', [
    'exec',
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${file}`,
  ]);
  countVitest(file, 'vitest');
}

// 2. Jest suites: each folder under test/ with a jest.config.* is run by Jest on its own.
for (const dir of readdirSync(join(root, 'test'), { withFileTypes: true })) {
  if (!dir.isDirectory()) continue;
  const cwd = join(root, 'test', dir.name);
  if (!readdirSync(cwd).some((f) => /^jest\.config\.(c|m)?(j|t)s$/.test(f))) continue;
  const file = join(outDir, `jest-${dir.name}.json`);
  run(`jest ${dir.name}`, 'pnpm', ['exec', 'jest', '--ci', '--json', `--outputFile=${file}`], { cwd });
  countJest(file, `jest ${dir.name}`);
}

if (stepFailures > 0) console.log(`\n${stepFailures} static step(s) failed (typecheck/lint/build).`);
if (totals.skipped > 0) console.log(`\n${totals.skipped} test(s) skipped or todo (see the runners' output).`);
console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed > 0 || stepFailures > 0 ? 1 : 0);
