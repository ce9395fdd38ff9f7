// The built package as Jest loads it: a light CommonJS worker entry, an ESM face over the same
// module, and a preset that adds hooks without choosing the test environment.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, repoRoot } from './run-jest.ts';

// Resolve from the `test` package, as a user's project resolves the installed adapter (dist, not src).
const requireFromTests = createRequire(join(repoRoot, 'test/package.json'));

describe('@lambda-testkit/jest as built', () => {
  beforeAll(() => assertBuilt());

  it('the worker entry requires nothing but undici and Node builtins (no ESM-only package)', () => {
    const file = requireFromTests.resolve('@lambda-testkit/jest');
    expect(file).toMatch(/dist\/index\.cjs$/);
    const source = readFileSync(file, 'utf8');
    const required = [...source.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1] ?? '');
    const external = required.filter((id) => !id.startsWith('node:') && !builtinModules.includes(id));
    expect([...new Set(external)]).toEqual(['undici']);
    expect(source).not.toMatch(/testcontainers|archiver|p-queue|dockerode/);
  });

  it('import and require give the same module instance (one client per test file)', () => {
    // In a plain Node process: Vitest's own module runner would load the files its own way.
    const script =
      "const cjs = require('@lambda-testkit/jest');" +
      "import('@lambda-testkit/jest').then((esm) => console.log(JSON.stringify({" +
      ' same: esm.lambda === cjs.lambda && esm.LambdaTestkitError === cjs.LambdaTestkitError,' +
      ' esmKeys: Object.keys(esm).filter((k) => k !== "default").sort(), cjsKeys: Object.keys(cjs).sort() })));';
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: join(repoRoot, 'test'),
      encoding: 'utf8',
    });
    const result = JSON.parse(out) as { same: boolean; esmKeys: string[]; cjsKeys: string[] };
    expect(result.esmKeys).toEqual(result.cjsKeys);
    expect(result.esmKeys).toContain('lambda');
    expect(result.same).toBe(true);
  });

  it('the preset adds globalSetup, globalTeardown, a setup file and the reporter, but no testEnvironment', () => {
    const preset = requireFromTests('@lambda-testkit/jest/jest-preset') as Record<string, unknown>;
    expect(Object.keys(preset).sort()).toEqual([
      'globalSetup',
      'globalTeardown',
      'reporters',
      'setupFilesAfterEnv',
    ]);
    expect(preset).not.toHaveProperty('testEnvironment');
    const files = [
      preset.globalSetup,
      preset.globalTeardown,
      ...(preset.setupFilesAfterEnv as string[]),
      (preset.reporters as string[])[1],
    ];
    for (const f of files) expect(existsSync(String(f)), String(f)).toBe(true);
    expect((preset.reporters as string[])[0]).toBe('default');
  });
});
