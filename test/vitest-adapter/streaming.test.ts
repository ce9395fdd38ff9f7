// lambda.invokeStream in a user's Vitest run: a fixture project run by a child Vitest against the
// built packages, on the process backend.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { assertBuilt, runVitest } from './run-vitest.ts';

beforeAll(assertBuilt);

it('streams through the `lambda` fixture and import', async () => {
  const dir = join(fileURLToPath(new URL('./fixtures', import.meta.url)), 'streaming');
  const run = await runVitest(dir, { reporters: ['@lambda-testkit/vitest/reporter'] });
  expect(run.report.numFailedTests, run.output).toBe(0);
  expect(run.report.numPassedTests).toBe(2);
  expect(run.summary).toEqual([
    { function: 'chunks', invokes: 1, cold: 1, warm: 0, errors: 0 },
    { function: 'http', invokes: 1, cold: 1, warm: 0, errors: 0 },
  ]);
});
