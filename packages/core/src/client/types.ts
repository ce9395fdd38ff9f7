/** Types of the worker-side client. Type-only: nothing here reaches the bundle. */

export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';

export interface ClientInvokeOptions {
  /**
   * `RequestResponse` waits for the result; `Event` queues the call (HTTP 202) and returns at once;
   * `DryRun` only checks that the function exists (HTTP 204).
   * @default 'RequestResponse'
   */
  invocationType?: InvocationType;
  /** Client context seen by the handler as `context.clientContext` (an object is JSON+base64 encoded). */
  clientContext?: Record<string, unknown> | string;
  /**
   * Version or alias (`$LATEST`, or one of the function's `functionAliases` or their versions);
   * every qualifier runs the current code. Another one is ResourceNotFoundException.
   */
  qualifier?: string;
  /**
   * Ask for the invocation's log tail (`X-Amz-Log-Type: Tail`, last 4 KB), returned as `logs`.
   * @default true
   */
  logs?: boolean;
  /**
   * X-Ray trace header sent as `X-Amzn-Trace-Id` (`Root=1-…;Parent=…;Sampled=…`); the handler sees
   * it as `_X_AMZN_TRACE_ID`. Without one (or with one lacking a well-formed `Root=`), the
   * invocation gets a new one, as on Lambda.
   */
  traceId?: string;
  /** Aborts the HTTP request to the pool server. */
  signal?: AbortSignal;
}

/** Options of `invokeStream`: those of `invoke` but the invocation type (always RequestResponse). */
export type ClientInvokeStreamOptions = Omit<ClientInvokeOptions, 'invocationType'>;

/**
 * What `awslambda.HttpResponseStream.from(stream, prelude)` put ahead of the body: the HTTP status,
 * headers and cookies a Function URL or API Gateway would answer with.
 */
export interface HttpResponsePrelude {
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: string[];
  [key: string]: unknown;
}

/**
 * A streamed invocation (`InvokeWithResponseStream`) under way. Iterate it for the response's bytes
 * as the function writes them; `completion` settles once they have all been read. The function
 * writes only as fast as the test reads.
 */
export interface InvokeStreamResult extends AsyncIterable<Uint8Array> {
  /** The function's stream content type (`application/json` for a function that does not stream). */
  contentType: string;
  /** The invocation's request id. */
  requestId: string;
  /**
   * The HTTP-integration prelude, when the function used `awslambda.HttpResponseStream.from`; the
   * iterated bytes are then the body after it.
   */
  http?: HttpResponsePrelude;
  /**
   * How the invocation ended (Lambda's `InvokeComplete`): a function error that happened midway,
   * the log tail, timings. Rejects with `LTK_STREAM_ABANDONED` when the iteration stopped early.
   */
  completion: Promise<InvokeStreamCompletion>;
  /** Reads the rest of the stream: all its bytes and the completion. */
  collect(): Promise<{ body: Uint8Array; completion: InvokeStreamCompletion }>;
}

export interface InvokeStreamCompletion {
  /** `Unhandled` when the function failed, before or after writing (thrown error, timeout, size). */
  functionError?: 'Unhandled';
  error?: FunctionError;
  /** The invocation's log lines (the last 4 KB), when asked for. */
  logs: string[];
  requestId: string;
  coldStart: boolean;
  durationMs: number;
  queuedMs: number;
  instanceId: string;
  /** success, handled, timeout, exit, init, oversized. */
  outcome: string;
  /** Bytes streamed (the prelude included). */
  size: number;
}

/** A function error as the runtime reported it (`errorType`, `errorMessage`, trace lines). */
export interface FunctionError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface InvokeRawResult {
  /** 200 RequestResponse, 202 Event, 204 DryRun. */
  statusCode: number;
  /** The response bytes exactly as Lambda returns them (empty for Event and DryRun). */
  raw: Uint8Array;
  /** `Unhandled` when the function failed (thrown error, timeout, crash, init error). */
  functionError?: 'Unhandled';
  /** The parsed error document when `functionError` is set. */
  error?: FunctionError;
  /** The invocation's log lines (the last 4 KB, START…REPORT), when asked for. */
  logs: string[];
  requestId: string;
  executedVersion?: string;
  /** This invocation started the instance (RequestResponse only). */
  coldStart: boolean;
  /** Time the instance took to answer, in ms (RequestResponse only). */
  durationMs: number;
  /** Time spent waiting for a free instance or a launch, in ms. */
  queuedMs: number;
  /** The instance that served the call (RequestResponse only). */
  instanceId: string;
  /** How the pool classified the answer: success, handled, timeout, exit, init, oversized. */
  outcome?: string;
  /** The X-Ray trace header the handler saw as `_X_AMZN_TRACE_ID` (RequestResponse only). */
  traceId?: string;
}

export interface InvokeResult<TPayload = unknown> extends InvokeRawResult {
  /** The response parsed as JSON (`undefined` for an empty body). */
  payload: TPayload;
}

export interface InstanceInfoView {
  instanceId: string;
  functionName: string;
  deployId: string;
  [key: string]: unknown;
}

export interface DurationSummaryView {
  count: number;
  p50: number;
  p95: number;
  [key: string]: unknown;
}

export interface FunctionStatsView {
  coldStarts: number;
  warmHits: number;
  invocations: number;
  errors: number;
  [key: string]: unknown;
}

/** Options to pass to `new LambdaClient(...)` of `@aws-sdk/client-lambda`. */
export interface SdkClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /**
   * One attempt: a retried invoke could run the handler twice, hiding the failure under test.
   */
  maxAttempts: number;
}

/** One Event (asynchronous) call as the pool server recorded it (`lambda.events(name)`). */
export interface EventRecordView {
  /** The id the 202 named and the handler saw (the same on every retry). */
  requestId: string;
  functionName: string;
  /** `pending` while a try runs or a retry waits; `failed` once the retries are used up. */
  status: 'pending' | 'succeeded' | 'failed';
  /** Each try: `kind` as the outcome (`success`, `handled`, `timeout`, …, or `error`), its result or error. */
  attempts: Array<{ kind: string; result?: unknown; error?: { errorType: string; errorMessage: string } }>;
}
