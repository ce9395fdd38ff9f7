// The built adapter under older Vitest majors (test/compat-vitest4 and test/compat-vitest3 install
// them). The project is assembled in a temp folder so that `vitest` resolves to the major under test
// from the adapter's own files too: through the workspace link it would be the repository's Vitest 5.
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, repoRoot, runVitest, type VitestRun } from './run-vitest.ts';

describe.each([
  { major: '4', pkg: 'test/compat-vitest4' },
  { major: '3', pkg: 'test/compat-vitest3' },
])('the Vitest adapter on Vitest $major', ({ major, pkg }) => {
  const work = mkdtempSync(join(tmpdir(), `ltk-compat-vitest${major}-`));
  let run: VitestRun;

  beforeAll(async () => {
    assertBuilt();
    const modules = join(work, 'node_modules');
    mkdirSync(join(modules, '@lambda-testkit/vitest'), { recursive: true });
    symlinkSync(realpathSync(join(repoRoot, pkg, 'node_modules/vitest')), join(modules, 'vitest'));
    symlinkSync(join(repoRoot, 'packages/core'), join(modules, '@lambda-testkit/core'));
    for (const entry of ['package.json', 'dist']) {
      cpSync(join(repoRoot, 'packages/vitest', entry), join(modules, '@lambda-testkit/vitest', entry), {
        recursive: true,
      });
    }
    cpSync(join(repoRoot, 'test/vitest-adapter/fixtures/compat-project'), work, { recursive: true });
    symlinkSync(join(repoRoot, 'test/vitest-adapter/fixtures/functions'), join(work, 'functions'));
    run = await runVitest(work, {
      env: { EXPECTED_VITEST_MAJOR: major },
      vitestBin: join(modules, 'vitest/vitest.mjs'),
    });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('passes with the plugin, global setup, fixture and provide/inject', () => {
    expect(run.report.numFailedTests, run.output).toBe(0);
    expect(run.report.numPassedTests).toBe(4);
    expect(run.output).toMatch(new RegExp(`RUN\\s+v${major}\\.`));
  });

  it('prints the per-function table, with one instance for both files', () => {
    expect(run.summary).toEqual([{ function: 'echo', invokes: 15, cold: 1, warm: 14, errors: 0 }]);
  });
});
