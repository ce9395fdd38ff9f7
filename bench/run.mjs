#!/usr/bin/env node
// `pnpm bench`: runs every `bench/*.bench.mjs`, one after the other (they measure time: never in
// parallel), each in its own Node process. Benches import @lambda-testkit/* from their TypeScript
// sources (the `lambda-testkit-source` export condition), so no build is needed.
//
//   pnpm bench                    every bench
//   pnpm bench -- process-backend the benches whose file name contains "process-backend"
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2).filter((a) => a !== '--');
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (benches.length === 0) {
  console.error(`No bench matches ${filters.join(', ') || '*.bench.mjs'} in ${here}.`);
  process.exit(1);
}
let failed = 0;
for (const file of benches) {
  console.log(`\n▶ ${file}`);
  const r = spawnSync(process.execPath, ['--conditions=lambda-testkit-source', join(here, file)], {
    stdio: 'inherit',
    cwd: here,
  });
  if (r.status !== 0) {
    console.log(`✖ ${file} exited with ${r.status ?? r.signal}`);
    failed += 1;
  }
}
process.exit(failed > 0 ? 1 : 0);
