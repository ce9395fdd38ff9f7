// examples/jest-basic on the Docker backend, with the locally built Lambda image (no registry is
// reachable here). Needs a Docker engine and FAILS when none answers: it never skips.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalImage } from '../image/local-image.ts';
import { assertBuilt, type JestRun, repoRoot, runJest } from './run-jest.ts';

const example = join(repoRoot, 'examples/jest-basic');

describe('examples/jest-basic on the Docker backend', () => {
  let run: JestRun;

  beforeAll(async () => {
    assertBuilt();
    const { tag } = await ensureLocalImage();
    run = await runJest({
      cwd: example,
      config: 'jest.config.mjs',
      env: {
        LAMBDA_TESTKIT_BACKEND: 'docker',
        LAMBDA_TESTKIT_IMAGE: tag,
        TESTCONTAINERS_RYUK_DISABLED: 'true',
      },
    });
  });

  it('passes every test of the three files in containers', () => {
    expect(run.report.testResults.filter((r) => r.status !== 'passed').map((r) => r.message)).toEqual([]);
    expect(run.report.numPassedTests).toBe(11);
    expect(run.code).toBe(0);
    expect(run.backend).toBe('docker');
  });

  it('starts exactly one container per function for all three files', () => {
    expect(run.summary.map((r) => [r.function, r.launches])).toEqual([
      ['greeter', 1],
      ['http-api', 1],
      ['sqs-batch', 1],
    ]);
  });
});
