/**
 * The `lambda` of a test worker: a PoolClient built lazily from `inject('lambdaTestkit')`, used by
 * the `lambda` fixture (which closes it) and by the `lambda` import (for hooks and helpers).
 */
import {
  type ClientInvokeOptions,
  type ClientInvokeStreamOptions,
  ErrorCodes,
  type EventRecordView,
  type FunctionStatsView,
  type InstanceInfoView,
  InvokeError,
  type InvokeRawResult,
  type InvokeResult,
  type InvokeStreamResult,
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
  /**
   * Invokes with response streaming (`InvokeWithResponseStream`): iterate the result for the bytes
   * as the function writes them; `completion` says how it ended (a mid-stream error, the logs).
   */
  invokeStream<TEvent = unknown>(
    name: string,
    event?: TEvent,
    options?: ClientInvokeStreamOptions,
  ): Promise<InvokeStreamResult>;
  /** Stops the function's instances; the next call is a cold start. Resolves with how many stopped. */
  evict(name: string): Promise<number>;
  /** The pool's live instances. */
  instances(): Promise<InstanceInfoView[]>;
  /** Per-function counters (cold starts, warm hits, invocations, errors, durations). */
  stats(): Promise<Record<string, FunctionStatsView>>;
  /**
   * The Event (asynchronous) calls of a function, oldest first, with status and tries (results,
   * errors, retries). `{ waitMs }` first waits until none is pending, at most that long.
   */
  events(name: string, options?: { waitMs?: number }): Promise<EventRecordView[]>;
  /** `new LambdaClient(lambda.sdkConfig())` talks to the same pool through `@aws-sdk/client-lambda`. */
  sdkConfig(): SdkClientConfig;
}

/**
 * A worker's client of the run's pool server, built from `inject('lambdaTestkit')` on first use.
 * A worker reused across runs (isolate: false, watch) may see a new pool after a restart: the
 * client is then replaced.
 */
export class ProvidedClient {
  #client: PoolClient | undefined;
  #clientFor: string | undefined;

  current(): PoolClient {
    const provided = inject(PROVIDE_KEY);
    const key = provided ? `${provided.url} ${provided.token}` : undefined;
    if (this.#client && key === this.#clientFor) return this.#client;
    if (!provided?.url || !provided.token) {
      throw new InvokeError(
        ErrorCodes.SERVER_UNREACHABLE,
        'lambda-testkit has no pool server in this run: nothing provided "lambdaTestkit". Add the plugin to ' +
          "vitest.config (`plugins: [lambdaTestkit()]` from '@lambda-testkit/vitest/plugin') or the global setup " +
          "(`test.globalSetup: ['@lambda-testkit/vitest/global-setup']`). In a workspace, put it in the root config.",
      );
    }
    this.#client?.close().catch(() => {});
    this.#client = new PoolClient(provided);
    this.#clientFor = key;
    return this.#client;
  }

  /** Closes the client's connections; a later `current()` builds a new one. */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#clientFor = undefined;
    await client?.close();
  }
}

/**
 * The `lambda` methods over a client. Async, so that a missing setup rejects like every other
 * failure instead of throwing synchronously.
 */
export function lambdaOver(source: ProvidedClient): LambdaFixture {
  return {
    invoke: async (name, event, options) => source.current().invoke(name, event, options),
    invokeRaw: async (name, payload, options) => source.current().invokeRaw(name, payload, options),
    invokeStream: async (name, event, options) => source.current().invokeStream(name, event, options),
    evict: async (name) => source.current().evict(name),
    instances: async () => source.current().instances(),
    stats: async () => source.current().stats(),
    events: async (name, options) => source.current().events(name, options),
    sdkConfig: () => source.current().sdkConfig(),
  };
}

/**
 * `import { lambda } from '@lambda-testkit/vitest'`, for hooks and helpers outside a test's
 * fixtures: one client per worker module graph, whose keep-alive sockets end with the worker.
 */
export const lambda: LambdaFixture = lambdaOver(new ProvidedClient());
