// The example type-checks against the BUILT declaration files (its own tsconfig has no source
// condition), as a user's project would: typed fixture, payload generics, inject('lambdaTestkit').
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { assertBuilt, repoRoot } from './run-vitest.ts';

it.each(['vitest-basic', 'vitest-integration'])('examples/%s type-checks against dist', (example) => {
  assertBuilt();
  const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(repoRoot, `examples/${example}/tsconfig.json`)], {
    encoding: 'utf8',
  });
  expect(`${r.stdout}${r.stderr}`).toBe('');
  expect(r.status).toBe(0);
});
