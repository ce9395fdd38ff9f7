// `@lambda-testkit/vitest`, the test-worker side: `test`/`it` with a `lambda` fixture, and `lambda`
// for use outside fixtures. The plugin lives in `@lambda-testkit/vitest/plugin` (main process).
import { test as baseTest } from 'vitest';
import { type LambdaFixture, lambda } from './lambda-client.ts';

export type {
  ClientInvokeOptions,
  FunctionError,
  FunctionStatsView,
  InstanceInfoView,
  InvokeRawResult,
  InvokeResult,
  SdkClientConfig,
} from '@lambda-testkit/core/client';
export { ErrorCodes, InvokeError, isTestkitError, LambdaTestkitError } from '@lambda-testkit/core/client';
export type { LambdaFixture } from './lambda-client.ts';
export { lambda } from './lambda-client.ts';
export type { LambdaTestkitProvided } from './provided-context.ts';

/**
 * Vitest's `test` with a `lambda` fixture. The object fixture syntax works on Vitest 3.2 to 5.
 * The fixture is the worker's shared client: every test and file reaches the same warm instances.
 */
export const test = baseTest.extend<{ lambda: LambdaFixture }>({
  // biome-ignore lint/correctness/noEmptyPattern: Vitest reads fixture dependencies from the destructuring pattern.
  lambda: async ({}, use) => {
    await use(lambda);
  },
});
export const it = test;
