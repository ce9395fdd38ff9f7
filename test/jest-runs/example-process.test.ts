// examples/jest-basic as a user runs it (`jest` in the example folder), on the process backend.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, type JestRun, repoRoot, runJest } from './run-jest.ts';

const example = join(repoRoot, 'examples/jest-basic');

describe('examples/jest-basic on the process backend', () => {
  let run: JestRun;

  beforeAll(async () => {
    assertBuilt();
    run = await runJest({
      cwd: example,
      config: 'jest.config.mjs',
      env: { LAMBDA_TESTKIT_BACKEND: 'process' },
    });
  });

  it('passes every test of the three files', () => {
    expect(run.report.testResults.filter((r) => r.status !== 'passed').map((r) => r.message)).toEqual([]);
    expect(run.report.numFailedTests).toBe(0);
    expect(run.backend).toBe('process');
    expect(run.report.testResults).toHaveLength(3);
    expect(run.report.numPassedTests).toBe(11);
    expect(run.code).toBe(0);
  });

  it('starts exactly one instance per function for all three files', () => {
    const byName = Object.fromEntries(run.summary.map((r) => [r.function, r]));
    expect(Object.keys(byName).sort()).toEqual(['greeter', 'http-api', 'sqs-batch']);
    for (const row of run.summary) {
      expect(row.launches, row.function).toBe(1);
      expect(row.coldStarts, row.function).toBe(1);
      expect(row.warmHits, row.function).toBe(row.invocations - 1);
    }
    // http-api: 4 calls from its own file + 1 from sqs-batch's; greeter: 3 + 1; sqs-batch: 2 + 1.
    expect(byName['http-api']?.invocations).toBe(5);
    expect(byName.greeter?.invocations).toBe(4);
    expect(byName.greeter?.errors).toBe(1);
    expect(byName['sqs-batch']?.invocations).toBe(3);
  });

  it("prints the end-of-run summary under Jest's own", () => {
    expect(run.output).toMatch(/lambda-testkit\n\s*function\s+invokes\s+cold\s+warm/);
    expect(run.output).toMatch(/http-api\s+5\s+1\s+4/);
  });
});
