// examples/vitest-sam run the way a user runs it (built packages, `vitest run` in the folder), on
// the process backend and on Docker with the locally built Lambda image (no registry is reachable
// here). The Docker run needs an engine and FAILS when none answers: it never skips.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalImage } from '../image/local-image.ts';
import { assertBuilt, repoRoot, runVitest, type VitestRun } from '../vitest-adapter/run-vitest.ts';

const example = join(repoRoot, 'examples/vitest-sam');

function expectPassed(run: VitestRun, backend: string): void {
  expect(run.report.numFailedTests, run.output).toBe(0);
  expect(run.report.numPassedTests, run.output).toBe(3);
  expect(run.code).toBe(0);
  expect(run.output).toContain(`backend ${backend}, functions: GreetFunction, WordCountFunction`);
  // The template's one unresolvable reference is overridden in vitest.config.ts: no warning.
  expect(run.output).not.toContain('could not resolve');
  expect(run.summary.map((r) => [r.function, r.cold, r.errors])).toEqual([
    ['GreetFunction', 1, 1],
    ['WordCountFunction', 1, 0],
  ]);
}

describe('examples/vitest-sam', () => {
  beforeAll(() => {
    assertBuilt();
  });

  it('passes on the process backend', async () => {
    expectPassed(await runVitest(example, { env: { LAMBDA_TESTKIT_BACKEND: 'process' } }), 'process');
  }, 120_000);

  it('passes on the Docker backend', async () => {
    const { tag } = await ensureLocalImage();
    const run = await runVitest(example, {
      env: {
        LAMBDA_TESTKIT_BACKEND: 'docker',
        LAMBDA_TESTKIT_IMAGE: tag,
        // Ryuk's image cannot be pulled here either (lambda-testkit sweeps its own containers).
        TESTCONTAINERS_RYUK_DISABLED: 'true',
      },
    });
    expectPassed(run, 'docker');
  }, 600_000); // building the local image (first run, or after the emulator changed) takes minutes
});
