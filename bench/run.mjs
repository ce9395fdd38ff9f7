#!/usr/bin/env node
// `pnpm bench`: runs every `bench/*.bench.mjs`, one after the other (they measure time: never in
// parallel), each in its own Node process. Benches import @lambda-testkit/* from their TypeScript
// sources (the `lambda-testkit-source` export condition); the Vitest projects the suite and
// parallel-invoke benches run load the built packages, as a user's install does (built first).
//
//   pnpm bench                    every bench
//   pnpm bench -- process-backend the benches whose file name contains "process-backend"
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './lib/suite-project.mjs';

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
/** Runs one bench, echoing its output, and returns its exit status and its `TARGET ` lines. */
function runBench(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=lambda-testkit-source', join(here, file)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: here,
    });
    const targets = [];
    let pending = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('TARGET ')) targets.push(line);
    });
    child.on('close', (code, signal) => resolve({ status: code ?? signal, targets }));
  });
}

// The benches that run Vitest projects or time the entries load the packages' dist/, as a user's
// install does: one build for all of them, before any measuring starts.
if (benches.some((f) => ['suite', 'parallel-invoke', 'startup'].some((b) => f.startsWith(b)))) ensureBuilt();

let failed = 0;
const verdicts = [];
for (const file of benches) {
  console.log(`\n▶ ${file}`);
  const r = await runBench(file);
  verdicts.push(...r.targets.map((line) => `${file.replace('.bench.mjs', '').padEnd(20)} ${line.slice(7)}`));
  if (r.status !== 0) {
    console.log(`✖ ${file} exited with ${r.status}`);
    failed += 1;
  }
}
// One closing table: every target of the run with its verdict, so a long run reads at a glance.
if (verdicts.length > 0) {
  const missed = verdicts.filter((v) => v.includes(' MISSED ')).length;
  console.log(`\n── targets: ${verdicts.length - missed} met, ${missed} missed ──`);
  for (const v of verdicts) console.log(v);
}
process.exit(failed > 0 ? 1 : 0);
