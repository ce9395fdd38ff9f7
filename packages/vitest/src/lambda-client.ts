/**
 * The `lambda` helper of a test worker: a PoolClient built lazily from `inject('lambdaTestkit')`,
 * so it can be imported at the top of a test file and used in hooks, helpers or tests alike.
 */
import {
  type ClientInvokeOptions,
  ErrorCodes,
  type FunctionStatsView,
  type InstanceInfoView,
  InvokeError,
  type InvokeRawResult,
  type InvokeResult,
  PoolClient,
  type SdkClientConfig,
} from '@lambda-testkit/core/client';
import { inject } from 'vitest';
import { PROVIDE_KEY } from './provided-context.ts';

/** What `lambda` (the fixture and the import) offers. */
export interface LambdaFixture {
  /**
   * Invokes a declared function with a JSON event. Function errors do not throw: they come back
   * as `functionError: 'Unhandled'` and `error`, as the Lambda API reports them.
   * `TPayload` types the parsed answer; `TEvent` the event (e.g. `APIGatewayProxyEventV2`).
   */
  invoke<TPayload = unknown, TEvent = unknown>(
    name: string,
    event?: TEvent,
    options?: ClientInvokeOptions,
  ): Promise<InvokeResult<TPayload>>;
  /** Invokes with a payload sent as-is; the answer stays bytes. */
  invokeRaw(
    name: string,
    payload: Uint8Array | string,
    options?: ClientInvokeOptions,
  ): Promise<InvokeRawResult>;
  /** Stops the function's instances; the next call is a cold start. Resolves with how many stopped. */
  evict(name: string): Promise<number>;
  /** The pool's live instances. */
  instances(): Promise<InstanceInfoView[]>;
  /** Per-function counters (cold starts, warm hits, invocations, errors, durations). */
  stats(): Promise<Record<string, FunctionStatsView>>;
  /** `new LambdaClient(lambda.sdkConfig())` talks to the same pool through `@aws-sdk/client-lambda`. */
  sdkConfig(): SdkClientConfig;
}

let client: PoolClient | undefined;
let clientFor: string | undefined;

function current(): PoolClient {
  const provided = inject(PROVIDE_KEY);
  // A worker reused across runs (isolate: false, watch) may see a new pool after a restart.
  const key = provided ? `${provided.url} ${provided.token}` : undefined;
  if (client && key === clientFor) return client;
  if (!provided?.url || !provided.token) {
    throw new InvokeError(
      ErrorCodes.SERVER_UNREACHABLE,
      'lambda-testkit has no pool server in this run: nothing provided "lambdaTestkit". Add the plugin to ' +
        "vitest.config (`plugins: [lambdaTestkit()]` from '@lambda-testkit/vitest/plugin') or the global setup " +
        "(`test.globalSetup: ['@lambda-testkit/vitest/global-setup']`). In a workspace, put it in the root config.",
    );
  }
  client?.close().catch(() => {});
  client = new PoolClient(provided);
  clientFor = key;
  return client;
}

// Async, so that a missing setup rejects like every other failure instead of throwing synchronously.
export const lambda: LambdaFixture = {
  invoke: async (name, event, options) => current().invoke(name, event, options),
  invokeRaw: async (name, payload, options) => current().invokeRaw(name, payload, options),
  evict: async (name) => current().evict(name),
  instances: async () => current().instances(),
  stats: async () => current().stats(),
  sdkConfig: () => current().sdkConfig(),
};
