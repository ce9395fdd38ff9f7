/**
 * The worker-side `lambda` helper: a lazily created `PoolClient` reaching the run's pool server.
 *
 * Jest cannot hand objects from globalSetup to test files (jestjs/jest#7184); globalSetup puts
 * `{ url, token }` into `process.env` before Jest forks its workers, and this helper reads them on
 * first use. Every test file gets its own module registry, hence its own client; the
 * `setupFilesAfterEnv` entry of the preset closes it in `afterAll` so no keep-alive socket outlives
 * the file.
 */
import { PoolClient } from '@lambda-testkit/core/client';

/** What `lambda` offers: the methods of the core `PoolClient`. */
export type LambdaHelper = Pick<
  PoolClient,
  'invoke' | 'invokeRaw' | 'invokeStream' | 'evict' | 'instances' | 'stats' | 'events' | 'sdkConfig' | 'close'
>;

let client: PoolClient | undefined;

// PoolClient.fromEnv() throws a clear SERVER_UNREACHABLE error naming the preset when the
// globalSetup did not run; it is thrown on first use, not at import, so a file can still load.
function current(): PoolClient {
  client ??= PoolClient.fromEnv();
  return client;
}

/**
 * Invoke the functions of the run from any test file:
 *
 * @example
 * import { lambda } from '@lambda-testkit/jest';
 * const res = await lambda.invoke('orders', { id: 1 });
 */
// The async methods are `async` so that a missing server rejects the returned promise, as every
// other failure does, instead of throwing synchronously out of `lambda.invoke(...)`.
export const lambda: LambdaHelper = {
  invoke: async (name, event, options) => current().invoke(name, event, options),
  invokeRaw: async (...args) => current().invokeRaw(...args),
  invokeStream: async (name, event, options) => current().invokeStream(name, event, options),
  evict: async (...args) => current().evict(...args),
  instances: async (...args) => current().instances(...args),
  stats: async (...args) => current().stats(...args),
  events: async (...args) => current().events(...args),
  sdkConfig: (...args) => current().sdkConfig(...args),
  /** Closes this file's connection to the pool server; the next call opens a new one. Idempotent. */
  close: async () => {
    const c = client;
    client = undefined;
    await c?.close();
  },
};
