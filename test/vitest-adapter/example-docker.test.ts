// examples/vitest-basic on the Docker backend, with the locally built Lambda image (no registry is
// reachable here). Needs a Docker engine and FAILS when none answers: it never skips.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalImage } from '../image/local-image.ts';
import { assertBuilt, repoRoot, runVitest, type VitestRun } from './run-vitest.ts';

describe('examples/vitest-basic on the Docker backend', () => {
  let run: VitestRun;

  beforeAll(async () => {
    assertBuilt();
    const { tag } = await ensureLocalImage();
    run = await runVitest(join(repoRoot, 'examples/vitest-basic'), {
      env: { LAMBDA_TESTKIT_BACKEND: 'docker', LAMBDA_TESTKIT_IMAGE: tag },
    });
  });

  it('passes every test of the three files on containers', () => {
    expect(run.report.numFailedTests, run.output).toBe(0);
    expect(run.report.numPassedTests).toBe(11);
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/backend docker/);
  });

  it('starts exactly one container per function for three files × many invokes', () => {
    expect(run.summary.map((r) => r.function)).toEqual(['payments-batch', 'slugify', 'todos-api']);
    for (const row of run.summary) {
      expect(row.cold, row.function).toBe(1);
      expect(row.invokes, row.function).toBeGreaterThanOrEqual(12);
      expect(row.warm, row.function).toBe(row.invokes - 1);
    }
  });
});
