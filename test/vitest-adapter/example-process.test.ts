// examples/vitest-basic on the process backend, run the way a user runs it.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, repoRoot, runVitest, type VitestRun } from './run-vitest.ts';

describe('examples/vitest-basic on the process backend', () => {
  let run: VitestRun;

  beforeAll(async () => {
    assertBuilt();
    run = await runVitest(join(repoRoot, 'examples/vitest-basic'), {
      env: { LAMBDA_TESTKIT_BACKEND: 'process' },
    });
  });

  it('passes every test of the three files', () => {
    expect(run.report.numFailedTests, run.output).toBe(0);
    expect(run.report.testResults.map((t) => t.name.split('/').pop()).sort()).toEqual([
      'payments-batch.test.ts',
      'slugify.test.ts',
      'todos-api.test.ts',
    ]);
    expect(run.report.numPassedTests).toBe(11);
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/backend process/);
  });

  it('starts exactly one instance per function for three files × many invokes', () => {
    expect(run.summary.map((r) => r.function)).toEqual(['payments-batch', 'slugify', 'todos-api']);
    for (const row of run.summary) {
      expect(row.cold, row.function).toBe(1);
      expect(row.invokes, row.function).toBeGreaterThanOrEqual(12);
      expect(row.warm, row.function).toBe(row.invokes - 1);
    }
    // The one deliberate function error (a TypeError thrown by slugify) is counted.
    expect(run.summary.find((r) => r.function === 'slugify')?.errors).toBe(1);
  });
});
