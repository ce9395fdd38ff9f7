/** What one invocation produced, as the pool reports it. */

export interface FunctionErrorBody {
  errorType: string;
  errorMessage: string;
  /** Node runtime: `trace`; Python: `stackTrace` (normalised to lines here). */
  trace?: string[];
}

/**
 * How the instance's answer was classified (see docs/lambda-apis.md#rie-answers):
 * - `success`: the runtime posted a response;
 * - `handled`: the handler threw / returned an error (runtime posted `/error`);
 * - `timeout`: the function timeout elapsed;
 * - `exit`: the runtime process exited during the call (`Runtime.ExitError`);
 * - `init`: the runtime failed to initialise (import error, syntax error, handler not found);
 * - `oversized`: the response exceeded 6 291 556 bytes (`Function.ResponseSizeTooLarge`).
 */
export type InvocationKind = 'success' | 'handled' | 'timeout' | 'exit' | 'init' | 'oversized';

export interface InvocationOutcome {
  kind: InvocationKind;
  /** Exactly the bytes the caller of the Lambda Invoke API would get (an error document for errors). */
  payload: Buffer;
  /** The payload parsed as JSON when it is JSON. */
  json?: unknown;
  /** `Unhandled` for every function error, as current Lambda reports it. */
  functionError?: 'Unhandled';
  error?: FunctionErrorBody;
  /** The invocation's request id (from the instance's START line when it has one). */
  requestId: string;
  /** This invocation launched the instance. */
  coldStart: boolean;
  /** Wall time of the request to the instance (excludes queueing). */
  durationMs: number;
  /** Time spent waiting for a free instance or for a launch. */
  queuedMs: number;
  instanceId: string;
  /** The invocation's log lines, START to REPORT, when the backend provides logs. */
  logs: string[];
  /** The X-Ray trace header the invocation ran with (`_X_AMZN_TRACE_ID` in the sandbox). */
  traceId: string;
}

export interface InvokeOptions {
  /** Base64 JSON client context (`X-Amz-Client-Context`). */
  clientContext?: string;
  /**
   * The caller's X-Ray header (`X-Amzn-Trace-Id`); kept when its `Root=` is well-formed, otherwise
   * (and when absent) the invocation gets a new one. The handler sees it as `_X_AMZN_TRACE_ID`.
   */
  traceId?: string;
  /**
   * The version or alias the caller named (`live`, `1`, `$LATEST`); the handler's
   * `context.invokedFunctionArn` then ends with `:<qualifier>`, as on Lambda.
   */
  qualifier?: string;
  /**
   * The request id the invocation should have (the handler's `context.awsRequestId`), for an Event
   * call whose 202 already named it. Honoured by lambda-testkit's emulator; AWS's RIE makes its own.
   */
  requestId?: string;
  /**
   * Refuse the call (LTK_THROTTLED) when the function's `reservedConcurrency` calls are already
   * admitted, as Lambda refuses a synchronous call; `false` waits instead (Event calls: Lambda
   * queues them). A reserved concurrency of 0 refuses every call either way.
   * @default true
   */
  throttle?: boolean;
  /** Aborts waiting for an instance; an in-flight call cannot be recalled once sent. */
  signal?: AbortSignal;
  /**
   * The instance whose handler makes this call (a function invoking a function, docs/wiring.md),
   * for synchronous calls only: a call that could only be served once its own caller returns fails
   * with CALL_DEADLOCK instead of waiting forever.
   */
  callerInstanceId?: string;
}

/**
 * A response-streaming invocation under way (`InvokeWithResponseStream`): the bytes as the function
 * writes them, then how it ended. `body` must be read to its end (or abandoned with `break`, which
 * replaces the instance) for the call to finish: the function writes only as fast as it is read.
 */
export interface StreamedInvocation {
  /**
   * The content type of the function's stream (`application/vnd.awslambda.http-integration-response`
   * after `awslambda.HttpResponseStream.from`; `application/json` for a function that does not stream).
   */
  contentType: string;
  /** Known at the start when the instance says it (our emulator); else only in `outcome`. */
  requestId?: string;
  body: AsyncIterable<Buffer>;
  /** Settles once `body` has ended: rejects with the testkit error if the call itself failed. */
  outcome: Promise<StreamedOutcome>;
}

/** How a streamed invocation ended (`InvokeComplete` on Lambda). */
export interface StreamedOutcome extends Omit<InvocationOutcome, 'payload' | 'json'> {
  /** Bytes streamed to the caller. */
  size: number;
}
