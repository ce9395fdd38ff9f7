// Jest's native ESM mode (`node --experimental-vm-modules`, `transform: {}`): an ESM test file
// imports the adapter's ESM face and core's ESM errors module.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { assertBuilt, repoRoot, runJest } from './run-jest.ts';

it('runs an ESM test file under native ESM with the preset', async () => {
  assertBuilt();
  const jestDir = dirname(createRequire(join(repoRoot, 'test/package.json')).resolve('jest/package.json'));
  const run = await runJest({
    cwd: join(repoRoot, 'test/jest-adapter'),
    config: 'jest.esm.config.cjs',
    jestDir,
    nodeArgs: ['--experimental-vm-modules'],
  });
  expect(run.report.testResults.filter((r) => r.status !== 'passed').map((r) => r.message)).toEqual([]);
  expect(run.report.numPassedTests).toBe(2);
  expect(run.summary.find((r) => r.function === 'echo')?.invocations).toBe(1);
});
