/**
 * The worker-side client of the pool server: what a test file's `lambda` fixture/helper uses.
 *
 * It imports only undici and core's errors module (Jest bundles it to CommonJS;
 * docs/architecture.md#what-each-folder-may-import). It never sets undici's global dispatcher: the code under test may use
 * `fetch` itself (docs/runner-integration.md#undici).
 */
import { Agent, type Dispatcher, request } from 'undici';
import {
  ConfigError,
  ErrorCodes,
  InvokeError,
  type LambdaTestkitError,
  reviveTestkitError,
  type SerializedTestkitError,
} from '../errors.ts';
import {
  CONTROL_PREFIX,
  INVOKE_PATH_PREFIX,
  payloadLimitFor,
  payloadTooLargeMessage,
  SDK_SECRET_ACCESS_KEY,
  STREAM_COMPLETE_EXTRAS_KEY,
  STREAM_PATH_PREFIX,
  STREAM_PATH_SUFFIX,
  type StreamCompleteExtras,
  TestkitHeaders,
} from './protocol.ts';
import type {
  ClientInvokeOptions,
  ClientInvokeStreamOptions,
  EventRecordView,
  FunctionError,
  FunctionStatsView,
  HttpResponsePrelude,
  InstanceInfoView,
  InvokeRawResult,
  InvokeResult,
  InvokeStreamCompletion,
  InvokeStreamResult,
  SdkClientConfig,
} from './types.ts';

export const ENV_URL = 'LAMBDA_TESTKIT_URL';
export const ENV_TOKEN = 'LAMBDA_TESTKIT_TOKEN';
export const ENV_REGION = 'LAMBDA_TESTKIT_REGION';
/** The request deadline in ms, set by the Jest globalSetup when a function is debugged. */
export const ENV_REQUEST_TIMEOUT = 'LAMBDA_TESTKIT_REQUEST_TIMEOUT_MS';

export interface PoolClientOptions {
  /** Base URL of the pool server, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The run's token. */
  token: string;
  /**
   * Region reported to the AWS SDK by `sdkConfig()`.
   * @default 'us-east-1'
   */
  region?: string;
  /**
   * Longest wait for one answer, in ms. Cold starts (image pulls, launches) and the function's
   * own timeout happen inside it; the pool enforces the function timeout itself. The adapters
   * raise it for a run that debugs a function (`PoolHost.clientRequestTimeoutMs`).
   * @default 960000
   */
  requestTimeoutMs?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class PoolClient {
  readonly url: string;
  readonly region: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  #agent: Agent | undefined;
  #closed = false;

  constructor(options: PoolClientOptions) {
    if (!options || typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) {
      throw new ConfigError(
        ErrorCodes.CONFIG_INVALID,
        `PoolClient needs the pool server's url (http://127.0.0.1:<port>), got ${JSON.stringify(options?.url)}. ` +
          'Use the values the globalSetup provides (Vitest: inject("lambdaTestkit"); Jest: LAMBDA_TESTKIT_URL).',
      );
    }
    if (typeof options.token !== 'string' || options.token === '') {
      throw new ConfigError(
        ErrorCodes.CONFIG_INVALID,
        'PoolClient needs the run token given by the globalSetup.',
      );
    }
    this.url = options.url.replace(/\/+$/, '');
    this.#token = options.token;
    this.region = options.region ?? 'us-east-1';
    this.#timeoutMs = options.requestTimeoutMs ?? 960_000;
  }

  /** A client from `LAMBDA_TESTKIT_URL` / `LAMBDA_TESTKIT_TOKEN` (set by the Jest globalSetup). */
  static fromEnv(env: Record<string, string | undefined> = process.env): PoolClient {
    const url = env[ENV_URL];
    const token = env[ENV_TOKEN];
    if (!url || !token) {
      throw new InvokeError(
        ErrorCodes.SERVER_UNREACHABLE,
        `${ENV_URL}/${ENV_TOKEN} are not set, so there is no lambda-testkit pool server to talk to. ` +
          "They are set by the runner's globalSetup: with Jest add `preset: '@lambda-testkit/jest'` " +
          '(or its globalSetup) to the Jest config; with Vitest add `lambdaTestkit()` to the plugins.',
      );
    }
    const timeout = Number(env[ENV_REQUEST_TIMEOUT]);
    return new PoolClient({
      url,
      token,
      region: env[ENV_REGION],
      ...(Number.isInteger(timeout) && timeout > 0 ? { requestTimeoutMs: timeout } : {}),
    });
  }

  /** Invokes `name` with `event` (serialised as JSON) and parses the JSON answer. */
  async invoke<TPayload = unknown, TEvent = unknown>(
    name: string,
    event?: TEvent,
    options: ClientInvokeOptions = {},
  ): Promise<InvokeResult<TPayload>> {
    const body = event === undefined ? '{}' : JSON.stringify(event);
    if (body === undefined) {
      throw new ConfigError(
        ErrorCodes.CONFIG_INVALID,
        `The event for ${name} cannot be serialised as JSON (got ${typeof event}). Pass a JSON value, or bytes to invokeRaw().`,
      );
    }
    const result = await this.invokeRaw(name, body, options);
    return { ...result, payload: parseJson(result.raw) as TPayload };
  }

  /** Invokes `name` with a payload sent as-is (bytes or a string); the answer stays bytes. */
  async invokeRaw(
    name: string,
    payload: Uint8Array | string,
    options: ClientInvokeOptions = {},
  ): Promise<InvokeRawResult> {
    const invocationType = options.invocationType ?? 'RequestResponse';
    const headers = this.#invokeHeaders(name, invocationType, options);
    const bytes = typeof payload === 'string' ? encoder.encode(payload) : payload;
    this.#checkPayload(name, invocationType, bytes);
    const query = options.qualifier ? `?Qualifier=${encodeURIComponent(options.qualifier)}` : '';
    const path = `${INVOKE_PATH_PREFIX}${encodeURIComponent(name)}/invocations${query}`;
    const res = await this.#send('POST', path, {
      headers,
      body: bytes,
      signal: options.signal,
    });
    const h = res.headers;
    const raw = res.body;
    const functionError = header(h, 'x-amz-function-error') === 'Unhandled' ? 'Unhandled' : undefined;
    const logResult = header(h, 'x-amz-log-result');
    return {
      statusCode: res.statusCode,
      raw,
      functionError,
      error: functionError ? toFunctionError(parseJson(raw)) : undefined,
      logs: logResult ? Buffer.from(logResult, 'base64').toString('utf8').split('\n').filter(Boolean) : [],
      requestId: header(h, 'x-amzn-requestid') ?? '',
      executedVersion: header(h, 'x-amz-executed-version'),
      coldStart: header(h, TestkitHeaders.coldStart) === 'true',
      durationMs: Number(header(h, TestkitHeaders.durationMs) ?? 0),
      queuedMs: Number(header(h, TestkitHeaders.queuedMs) ?? 0),
      instanceId: header(h, TestkitHeaders.instanceId) ?? '',
      outcome: header(h, TestkitHeaders.kind),
      traceId: header(h, TestkitHeaders.traceId),
    };
  }

  /**
   * Invokes `name` with response streaming (`InvokeWithResponseStream`): resolves once the response
   * has started (after the HTTP-integration prelude, when there is one). Iterate the result for the
   * bytes as the function writes them; `completion` says how it ended.
   */
  async invokeStream<TEvent = unknown>(
    name: string,
    event?: TEvent,
    options: ClientInvokeStreamOptions = {},
  ): Promise<InvokeStreamResult> {
    const body = event === undefined ? '{}' : JSON.stringify(event);
    if (body === undefined) {
      throw new ConfigError(
        ErrorCodes.CONFIG_INVALID,
        `The event for ${name} cannot be serialised as JSON (got ${typeof event}). Pass a JSON value.`,
      );
    }
    const headers = this.#invokeHeaders(name, 'RequestResponse', options);
    const bytes = encoder.encode(body);
    this.#checkPayload(name, 'RequestResponse', bytes);
    const query = options.qualifier ? `?Qualifier=${encodeURIComponent(options.qualifier)}` : '';
    const path = `${STREAM_PATH_PREFIX}${encodeURIComponent(name)}${STREAM_PATH_SUFFIX}${query}`;
    const res = await this.#open('POST', path, { headers, body: bytes, signal: options.signal });
    if (res.statusCode >= 400) {
      const text = new Uint8Array(await res.body.arrayBuffer());
      throw errorFromResponse(res.statusCode, res.headers, text, this.url);
    }
    const { readEventStream } = await import('./event-stream-reader.ts');
    return startStream(name, res, readEventStream(res.body));
  }

  /** Stops every instance of `name`; the next call starts a fresh one. Resolves with how many stopped. */
  async evict(name: string): Promise<number> {
    const res = await this.#send('POST', `${CONTROL_PREFIX}functions/${encodeURIComponent(name)}/evict`, {});
    return (parseJson(res.body) as { evicted: number }).evicted;
  }

  /** The pool's live instances. */
  async instances(): Promise<InstanceInfoView[]> {
    const res = await this.#send('GET', `${CONTROL_PREFIX}instances`, {});
    return parseJson(res.body) as InstanceInfoView[];
  }

  /**
   * The Event (asynchronous) calls of `name` so far, oldest first, each with its request id, status
   * and tries (result or error). With `waitMs`, first waits until none is pending (retries included),
   * at most that long.
   */
  async events(name: string, options: { waitMs?: number } = {}): Promise<EventRecordView[]> {
    const query = options.waitMs ? `?waitMs=${Math.max(0, Math.round(options.waitMs))}` : '';
    const res = await this.#send('GET', `${CONTROL_PREFIX}events/${encodeURIComponent(name)}${query}`, {});
    return parseJson(res.body) as EventRecordView[];
  }

  /** Per-function counters: cold starts, warm hits, invocations, errors, durations. */
  async stats(): Promise<Record<string, FunctionStatsView>> {
    const res = await this.#send('GET', `${CONTROL_PREFIX}stats`, {});
    return parseJson(res.body) as Record<string, FunctionStatsView>;
  }

  /** Configuration for `new LambdaClient(lambda.sdkConfig())`: the run token is the access key id. */
  sdkConfig(): SdkClientConfig {
    return {
      endpoint: this.url,
      region: this.region,
      credentials: { accessKeyId: this.#token, secretAccessKey: SDK_SECRET_ACCESS_KEY },
      maxAttempts: 1,
    };
  }

  /**
   * Closes the keep-alive connections. Idempotent. A call made after it fails with
   * `LTK_CLIENT_CLOSED` instead of opening new connections: make a new client for more calls.
   */
  async close(): Promise<void> {
    const agent = this.#agent;
    this.#agent = undefined;
    this.#closed = true;
    await agent?.close();
  }

  /** `await using client = new PoolClient(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The headers of an invoke; validates the name. */
  #invokeHeaders(
    name: string,
    invocationType: string,
    options: ClientInvokeStreamOptions,
  ): Record<string, string> {
    if (typeof name !== 'string' || name === '') {
      throw new ConfigError(
        ErrorCodes.UNKNOWN_FUNCTION,
        `lambda.invoke() needs a function name, got ${JSON.stringify(name)}.`,
      );
    }
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'x-amz-invocation-type': invocationType,
    };
    if (options.logs !== false) headers['x-amz-log-type'] = 'Tail';
    if (options.clientContext !== undefined) {
      headers['x-amz-client-context'] =
        typeof options.clientContext === 'string'
          ? options.clientContext
          : Buffer.from(JSON.stringify(options.clientContext)).toString('base64');
    }
    if (options.traceId !== undefined) headers['x-amzn-trace-id'] = options.traceId;
    return headers;
  }

  #checkPayload(name: string, invocationType: string, bytes: Uint8Array): void {
    if (bytes.byteLength > payloadLimitFor(invocationType)) {
      // The server would refuse it too; failing here spares uploading megabytes to hear so.
      throw new InvokeError(
        ErrorCodes.PAYLOAD_TOO_LARGE,
        payloadTooLargeMessage(name, invocationType, bytes.byteLength),
        {
          details: { name, limit: payloadLimitFor(invocationType), received: bytes.byteLength },
        },
      );
    }
  }

  async #send(
    method: 'GET' | 'POST',
    path: string,
    opts: { headers?: Record<string, string>; body?: Uint8Array; signal?: AbortSignal },
  ): Promise<{ statusCode: number; headers: Dispatcher.ResponseData['headers']; body: Uint8Array }> {
    const res = await this.#open(method, path, opts);
    const body = new Uint8Array(await res.body.arrayBuffer());
    if (res.statusCode >= 400) throw errorFromResponse(res.statusCode, res.headers, body, this.url);
    return { statusCode: res.statusCode, headers: res.headers, body };
  }

  /** Sends a request and returns the answer with its body unread. */
  async #open(
    method: 'GET' | 'POST',
    path: string,
    opts: { headers?: Record<string, string>; body?: Uint8Array; signal?: AbortSignal },
  ): Promise<Dispatcher.ResponseData> {
    if (this.#closed) {
      throw new InvokeError(
        ErrorCodes.CLIENT_CLOSED,
        `This PoolClient (${this.url}) was closed, so it sends no more calls (${method} ${path}). ` +
          'Create a new PoolClient, or use the fixture/helper of your runner, which manages its client.',
        { details: { url: this.url } },
      );
    }
    this.#agent ??= new Agent({ keepAliveTimeout: 4_000, connect: { timeout: 5_000 } });
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.url}${path}`, {
        method,
        dispatcher: this.#agent,
        headers: { ...opts.headers, authorization: `Bearer ${this.#token}` },
        body: opts.body,
        signal: opts.signal,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
    } catch (cause) {
      if (opts.signal?.aborted) throw cause;
      const code = (cause as { code?: string }).code ?? (cause as Error).name;
      throw new InvokeError(
        ErrorCodes.SERVER_UNREACHABLE,
        `Could not reach the lambda-testkit pool server at ${this.url} (${code}: ${(cause as Error).message}). ` +
          "It runs in the test runner's main process, started by the globalSetup: check that the Vitest plugin " +
          '`lambdaTestkit()` (or the Jest preset) is configured, and that the run is not already shutting down.',
        { cause, details: { url: this.url, code } },
      );
    }
    return res;
  }
}

const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
/** The 8 NUL bytes between the HTTP-integration prelude and the body. */
const PRELUDE_DELIMITER = new Uint8Array(8);

type StreamEvent =
  | { type: 'chunk'; bytes: Uint8Array }
  | { type: 'complete'; document: Record<string, unknown> };

/**
 * Turns the decoded events into the InvokeStreamResult: chunks through the iterator, InvokeComplete
 * into `completion`. With the HTTP-integration content type, the prelude is read first.
 */
async function startStream(
  name: string,
  res: Dispatcher.ResponseData,
  events: AsyncGenerator<StreamEvent>,
): Promise<InvokeStreamResult> {
  let settle!: { resolve: (c: InvokeStreamCompletion) => void; reject: (e: unknown) => void };
  const completion = new Promise<InvokeStreamCompletion>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Unobserved when the test only reads the bytes; a rejection must not become an unhandled one.
  completion.catch(() => undefined);
  const contentType = header(res.headers, 'content-type') ?? 'application/octet-stream';
  const requestId = header(res.headers, 'x-amzn-requestid') ?? '';

  /** The next chunk, or undefined at the end (completion settled then). */
  const next = async (): Promise<Uint8Array | undefined> => {
    let step: IteratorResult<StreamEvent>;
    try {
      step = await events.next();
    } catch (cause) {
      const error = new InvokeError(
        ErrorCodes.PROTOCOL_ERROR,
        `The streamed response of ${name} broke off: ${(cause as Error).message}.`,
        { cause, details: { name } },
      );
      settle.reject(error);
      throw error;
    }
    if (step.done) {
      const error = new InvokeError(
        ErrorCodes.PROTOCOL_ERROR,
        `The streamed response of ${name} ended without InvokeComplete; the pool server went away mid-stream.`,
        { details: { name } },
      );
      settle.reject(error);
      throw error;
    }
    if (step.value.type === 'chunk') return step.value.bytes;
    const doc = step.value.document;
    const extras = doc[STREAM_COMPLETE_EXTRAS_KEY] as StreamCompleteExtras | undefined;
    if (extras?.testkitError)
      settle.reject(reviveTestkitError(extras.testkitError as SerializedTestkitError));
    else settle.resolve(toCompletion(doc, extras, requestId));
    return undefined;
  };

  let pending: Uint8Array[] = [];
  let http: HttpResponsePrelude | undefined;
  if (contentType === HTTP_INTEGRATION_CONTENT_TYPE) {
    let head: Uint8Array = new Uint8Array(0);
    for (;;) {
      const chunk = await next();
      if (!chunk) break;
      head = concat(head, chunk);
      const at = indexOf(head, PRELUDE_DELIMITER);
      if (at < 0) continue;
      http = parsePrelude(head.subarray(0, at));
      pending = [head.subarray(at + PRELUDE_DELIMITER.length)];
      head = new Uint8Array(0);
      break;
    }
    // A stream that ended before the delimiter: its bytes are the body, there is no prelude.
    if (head.length > 0) pending = [head];
  }

  let finished = false;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for (const p of pending.splice(0)) if (p.length > 0) yield p;
      for (;;) {
        const chunk = await next();
        if (!chunk) break;
        yield chunk;
      }
      finished = true;
    } finally {
      if (!finished) {
        // Left early (break, or an error thrown in the loop): stop the transfer.
        res.body.destroy();
        settle.reject(
          new InvokeError(
            ErrorCodes.STREAM_ABANDONED,
            `The streamed response of ${name} was left before its end, so it has no outcome; the instance that ` +
              'served it is replaced. Read the stream to its end (or use collect()) to get the completion.',
            { details: { name } },
          ),
        );
      }
    }
  }
  let iterated = false;
  const iterate = () => {
    if (iterated) {
      throw new InvokeError(
        ErrorCodes.PROTOCOL_ERROR,
        `The streamed response of ${name} can be iterated once; keep the chunks you need, or use collect().`,
      );
    }
    iterated = true;
    return chunks();
  };
  return {
    contentType,
    requestId,
    ...(http ? { http } : {}),
    completion,
    [Symbol.asyncIterator]: iterate,
    async collect() {
      const parts: Uint8Array[] = [];
      for await (const chunk of { [Symbol.asyncIterator]: iterate }) parts.push(chunk);
      return { body: Buffer.concat(parts), completion: await completion };
    },
  };
}

function toCompletion(
  doc: Record<string, unknown>,
  extras: StreamCompleteExtras | undefined,
  requestId: string,
): InvokeStreamCompletion {
  const logResult = typeof doc.LogResult === 'string' ? doc.LogResult : '';
  const errorCode = typeof doc.ErrorCode === 'string' && doc.ErrorCode ? doc.ErrorCode : undefined;
  const error =
    extras?.error ??
    (errorCode
      ? { errorType: errorCode, errorMessage: typeof doc.ErrorDetails === 'string' ? doc.ErrorDetails : '' }
      : undefined);
  return {
    ...(error ? { functionError: 'Unhandled' as const, error } : {}),
    logs: logResult ? Buffer.from(logResult, 'base64').toString('utf8').split('\n').filter(Boolean) : [],
    requestId: extras?.requestId || requestId,
    coldStart: extras?.coldStart ?? false,
    durationMs: extras?.durationMs ?? 0,
    queuedMs: extras?.queuedMs ?? 0,
    instanceId: extras?.instanceId ?? '',
    outcome: extras?.kind ?? (error ? 'handled' : 'success'),
    size: extras?.size ?? 0,
  };
}

function parsePrelude(bytes: Uint8Array): HttpResponsePrelude {
  const doc = parseJson(bytes);
  return typeof doc === 'object' && doc !== null ? (doc as HttpResponsePrelude) : {};
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.length === 0 ? b : Buffer.concat([a, b]);
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle);
}

function header(h: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseJson(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) return undefined;
  const text = decoder.decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    // Lambda payloads are JSON for the Node/Python runtimes; a custom runtime may return text.
    return text;
  }
}

function toFunctionError(doc: unknown): FunctionError {
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  const trace = Array.isArray(d.trace) ? d.trace : Array.isArray(d.stackTrace) ? d.stackTrace : undefined;
  return {
    errorType: typeof d.errorType === 'string' ? d.errorType : 'Unknown',
    errorMessage: typeof d.errorMessage === 'string' ? d.errorMessage : String(doc ?? ''),
    ...(trace ? { trace: trace.map(String) } : {}),
  };
}

function errorFromResponse(
  status: number,
  headers: Dispatcher.ResponseData['headers'],
  body: Uint8Array,
  url: string,
): LambdaTestkitError {
  const doc = parseJson(body) as { testkitError?: SerializedTestkitError; message?: string } | undefined;
  if (doc && typeof doc === 'object' && doc.testkitError && typeof doc.testkitError.code === 'string') {
    return reviveTestkitError(doc.testkitError);
  }
  const type = header(headers, 'x-amzn-errortype') ?? `HTTP ${status}`;
  const message = (doc && typeof doc === 'object' && doc.message) || decoder.decode(body).slice(0, 500);
  return new InvokeError(
    ErrorCodes.PROTOCOL_ERROR,
    `The server at ${url} answered ${status} ${type}: ${message}. Is that URL a lambda-testkit pool server of this run?`,
    { details: { status, type } },
  );
}
