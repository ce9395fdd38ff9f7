#!/usr/bin/env node
// What the entries cost to load before any test runs (issue 12: a suite at close to mock speed): the
// Vitest plugin entry (evaluated while Vitest reads vitest.config), the host entry (the global setup
// and the reporter import it) and the worker client (every test worker), against a bare
// `import('vitest/config')`. Each import runs in a fresh Node process, the entries taking turns
// round after round, from the BUILD (`pnpm build` first): that is what users load. No goal exists for
// these figures, so no verdict is printed.
//
//   node bench/startup.bench.mjs                 this checkout
//   node bench/startup.bench.mjs /path/to/other  also another checkout (built), side by side
//
// BENCH_STARTUP_RUNS imports per entry (default 15). The module count is what a `module.registerHooks`
// load hook sees (ES modules, CommonJS files and `node:` builtins), taken in one extra run per entry
// so the hook does not weigh on the timed runs.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { percentile } from './lib/report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const runs = Number(process.env.BENCH_STARTUP_RUNS ?? 15);
const checkouts = [resolve(here, '..'), ...process.argv.slice(2).map((p) => resolve(p))];

const ENTRIES = [
  ['vitest/config', 'bare vitest/config (baseline)'],
  ['@lambda-testkit/vitest/plugin', 'plugin entry (vitest.config)'],
  ['@lambda-testkit/core/host', 'host entry (global setup)'],
  ['@lambda-testkit/core/client', 'worker client'],
];

for (const root of checkouts) {
  for (const pkg of ['core', 'vitest']) {
    if (!existsSync(join(root, 'packages', pkg, 'dist'))) {
      console.error(`${root}/packages/${pkg}/dist is missing: run \`pnpm build\` in ${root} first.`);
      process.exit(1);
    }
  }
}

/** The child: imports `specifier` once and prints the import time in ms (and the modules loaded, when counting). */
const child = (count) => `
  ${count ? "import { registerHooks } from 'node:module'; let n = 0; registerHooks({ load(u, c, next) { n++; return next(u, c); } });" : ''}
  const t0 = performance.now();
  await import(process.argv[1]);
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ ms${count ? ', modules: n' : ''} }));
`;

// Plain `node` (no `lambda-testkit-source` condition): @lambda-testkit/* resolve to dist.
async function importOnce(root, specifier, count = false) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '--eval', child(count), specifier],
    { cwd: join(root, 'bench'), timeout: 60_000 },
  );
  return JSON.parse(stdout);
}

const samples = new Map();
const modules = new Map();
const key = (root, specifier) => `${root}\0${specifier}`;
for (const root of checkouts) {
  for (const [specifier] of ENTRIES) {
    modules.set(key(root, specifier), (await importOnce(root, specifier, true)).modules);
    samples.set(key(root, specifier), []);
  }
}
// Round after round, every entry of every checkout once: they see the same machine load.
for (let round = 0; round < runs; round++) {
  for (const [specifier] of ENTRIES) {
    for (const root of checkouts) {
      samples.get(key(root, specifier)).push((await importOnce(root, specifier)).ms);
    }
  }
}

console.log(`import of each entry in a fresh Node, from the build (${runs} runs each, alternating)`);
for (const root of checkouts) {
  console.log(`\n${root}`);
  const p50 = (specifier) =>
    percentile(
      [...samples.get(key(root, specifier))].sort((a, b) => a - b),
      50,
    );
  const baseline = p50('vitest/config');
  console.log(
    `  ${'entry'.padEnd(32)} ${'modules'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)}  vs vitest/config`,
  );
  for (const [specifier, label] of ENTRIES) {
    const sorted = [...samples.get(key(root, specifier))].sort((a, b) => a - b);
    const median = percentile(sorted, 50);
    console.log(
      `  ${label.padEnd(32)} ${String(modules.get(key(root, specifier))).padStart(7)} ${median.toFixed(1).padStart(8)} ${percentile(sorted, 90).toFixed(1).padStart(8)}  ${(median / baseline).toFixed(2)}×`,
    );
  }
}
