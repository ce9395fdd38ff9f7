// `@lambda-testkit/vitest`, the test-worker side: `test`/`it` with a `lambda` fixture, and `lambda`
// for use outside fixtures. The plugin lives in `@lambda-testkit/vitest/plugin` (main process).
import { test as baseTest } from 'vitest';
import { type LambdaFixture, lambdaOver, ProvidedClient } from './lambda-client.ts';

export { ErrorCodes, InvokeError, isTestkitError, LambdaTestkitError } from '@lambda-testkit/core/client';
// The client's option and result types (invoke options, results, stats, the SDK configuration).
export type * from '@lambda-testkit/core/client/types';
export type { LambdaFixture } from './lambda-client.ts';
export { lambda } from './lambda-client.ts';
export type { LambdaTestkitProvided } from './provided-context.ts';

/**
 * Vitest's `test` with a `lambda` fixture: worker-scoped, so every test and file of a worker shares
 * one client (and its keep-alive connections) to the run's warm instances; it is built from
 * `inject('lambdaTestkit')` and closed when the worker's fixtures are torn down. The object fixture
 * syntax works on Vitest 3.2 to 5.
 */
export const test = baseTest.extend<{ lambda: LambdaFixture }>({
  lambda: [
    // biome-ignore lint/correctness/noEmptyPattern: Vitest reads fixture dependencies from the destructuring pattern.
    async ({}, use) => {
      const client = new ProvidedClient();
      try {
        await use(lambdaOver(client));
      } finally {
        await client.close();
      }
    },
    { scope: 'worker' },
  ],
});
export const it = test;
