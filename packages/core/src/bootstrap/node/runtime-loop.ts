/**
 * The invoke loop: `/next`, run the handler, post `/response` or `/error`, repeat
 * (docs/lambda-apis.md#runtime-api, docs/lambda-apis.md#node-runtime-client). Two handler
 * conventions, chosen by the runtime being emulated:
 * - nodejs24.x and later (`modern`): `await handler(event, context)`; a handler taking 3 or more
 *   parameters is rejected at init with Runtime.CallbackHandlerDeprecated, as AWS does.
 * - nodejs22.x and older (`legacy`): callbacks too, answered when the event loop is empty if
 *   `context.callbackWaitsForEmptyEventLoop` (the default); async results are posted at once.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { finished } from 'node:stream/promises';
import { RuntimeError, RuntimeErrors, toErrorDocument } from './errors.ts';
import type { LoadedHandler } from './handler-loader.ts';
import { buildContext, type Callback, requestIdOf } from './invoke-context.ts';
import { ResponseStream } from './response-stream.ts';
import type { RuntimeApiClient } from './runtime-api-client.ts';

export type Convention = 'legacy' | 'modern';

/** The Node major of the emulated runtime: from AWS_EXECUTION_ENV (`AWS_Lambda_nodejs22.x`), else this Node. */
export function conventionFor(env: NodeJS.ProcessEnv): Convention {
  const match = /^AWS_Lambda_nodejs(\d+)\.x$/.exec(env.AWS_EXECUTION_ENV ?? '');
  const major = match ? Number(match[1]) : Number(process.versions.node.split('.')[0]);
  return major >= 24 ? 'modern' : 'legacy';
}

export function checkHandlerConvention(loaded: LoadedHandler, convention: Convention): void {
  if (convention === 'modern' && loaded.handler.length >= 3 && !loaded.streaming) {
    throw new RuntimeError(
      RuntimeErrors.callbackHandlerDeprecated,
      'Callback-based handlers (three parameters: event, context, callback) are not supported from Node.js 24 on. ' +
        'Make the handler an async function (event, context) that returns its result. ' +
        'See https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.',
    );
  }
}

type Settled = { ok: true; result: unknown } | { ok: false; error: unknown };

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

export interface LoopState {
  /** The invocation being handled, for log lines and for errors that escape the handler. */
  requestId: string | undefined;
}

export class RuntimeLoop {
  readonly #client: RuntimeApiClient;
  readonly #loaded: LoadedHandler;
  readonly #convention: Convention;
  readonly #env: NodeJS.ProcessEnv;
  readonly #state: LoopState;

  constructor(
    client: RuntimeApiClient,
    loaded: LoadedHandler,
    convention: Convention,
    env: NodeJS.ProcessEnv,
    state: LoopState,
  ) {
    this.#client = client;
    this.#loaded = loaded;
    this.#convention = convention;
    this.#env = env;
    this.#state = state;
  }

  async run(): Promise<never> {
    for (;;) {
      const next = await this.#client.next();
      const requestId = requestIdOf(next.headers);
      if (!requestId)
        throw new RuntimeError(
          RuntimeErrors.platform,
          'Missing required header lambda-runtime-aws-request-id',
        );
      this.#state.requestId = requestId;
      try {
        await this.#invoke(requestId, next.body, next.headers);
      } finally {
        this.#state.requestId = undefined;
      }
    }
  }

  async #invoke(requestId: string, body: Buffer, headers: IncomingHttpHeaders): Promise<void> {
    let event: unknown;
    try {
      // An empty payload is `{}`, as when Lambda is invoked without one.
      event = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch (error) {
      return this.#postError(
        requestId,
        new RuntimeError(
          'Runtime.UnmarshalError',
          `Unable to parse the event as JSON: ${(error as Error).message}`,
        ),
      );
    }
    if (this.#loaded.streaming) return this.#invokeStreaming(requestId, event, headers);
    const settled =
      this.#convention === 'legacy'
        ? await this.#runLegacy(event, headers)
        : await this.#runModern(event, headers);
    if (!settled.ok) return this.#postError(requestId, settled.error);
    let json: string | undefined;
    try {
      json = JSON.stringify(settled.result === undefined ? null : settled.result);
    } catch {
      return this.#postError(
        requestId,
        new RuntimeError(RuntimeErrors.jsonStringify, 'Unable to stringify response body'),
      );
    }
    const answer = await this.#client.postResponse(requestId, json ?? 'null');
    if (answer.status === 413) {
      console.error(
        `Invoke Error: the response is too large for Lambda (${Buffer.byteLength(json ?? '')} bytes).`,
      );
    }
  }

  async #runModern(event: unknown, headers: IncomingHttpHeaders): Promise<Settled> {
    try {
      const context = buildContext(headers, this.#env, undefined);
      return { ok: true, result: await this.#loaded.handler(event, context) };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /** The nodejs22.x convention (see the module comment). `beforeExit` fires when the event loop is empty. */
  #runLegacy(event: unknown, headers: IncomingHttpHeaders): Promise<Settled> {
    return new Promise((resolve) => {
      let done = false;
      let fromCallback: Settled | undefined;
      let returnedPromise = false;
      const finish = (settled: Settled): void => {
        if (done) return;
        done = true;
        process.off('beforeExit', onEmptyLoop);
        resolve(settled);
      };
      const onEmptyLoop = (): void => {
        if (fromCallback) finish(fromCallback);
        else if (returnedPromise) {
          finish({
            ok: false,
            error: new RuntimeError(
              RuntimeErrors.nodeJsExit,
              'The handler returned a promise that never settled, and the event loop is empty.',
            ),
          });
        }
        // A synchronous handler that neither called back nor returned a promise answers null.
        else finish({ ok: true, result: null });
      };
      process.on('beforeExit', onEmptyLoop);
      const callback: Callback = (error, result) => {
        if (done || fromCallback) return;
        fromCallback = error !== undefined && error !== null ? { ok: false, error } : { ok: true, result };
        if (!context.callbackWaitsForEmptyEventLoop) finish(fromCallback);
      };
      let context: ReturnType<typeof buildContext>;
      try {
        context = buildContext(headers, this.#env, { callback });
        const returned = this.#loaded.handler(event, context, callback);
        if (isPromiseLike(returned)) {
          returnedPromise = true;
          returned.then(
            (result) => finish({ ok: true, result }),
            (error: unknown) => finish({ ok: false, error }),
          );
        }
      } catch (error) {
        finish({ ok: false, error });
      }
    });
  }

  async #invokeStreaming(requestId: string, event: unknown, headers: IncomingHttpHeaders): Promise<void> {
    const { req, answer } = this.#client.openResponseStream(requestId);
    const stream = new ResponseStream(req, this.#loaded.highWaterMark);
    try {
      const context = buildContext(headers, this.#env, undefined);
      const returned = this.#loaded.handler(event, stream, context);
      if (!isPromiseLike(returned)) throw new Error('Streaming does not support non-async handlers.');
      const result = await returned;
      if (result !== undefined) console.warn('Streaming handlers ignore return values.');
      if (!stream.writableEnded) throw new Error('Response stream is not finished.');
      await finished(stream);
    } catch (error) {
      console.error('Invoke Error', JSON.stringify(toErrorDocument(error)));
      await stream.fail(error);
    }
    await answer;
  }

  async #postError(requestId: string, error: unknown): Promise<void> {
    const doc = toErrorDocument(error);
    console.error('Invoke Error', JSON.stringify(doc));
    await this.#client.postError(requestId, JSON.stringify(doc), doc.errorType);
  }
}
