/**
 * Wire constants of the two sides of the emulator, as docs/lambda-apis.md#rie-answers,
 * docs/lambda-apis.md#runtime-api, docs/lambda-apis.md#invoke-api-requests describe them. This folder
 * imports only `node:` builtins (it is copied alone into container images), so these live here rather than in
 * core's errors module.
 */

/**
 * Lambda's limit for the init phase of an on-demand function (docs/emulator.md#init-phase): the
 * function timeout starts when the event is delivered, or once this much init time has passed.
 */
export const INIT_TIMEOUT_MS = 10_000;

/** The route RIE registers (docs/lambda-apis.md#rie-invoke-route). */
export const RIE_INVOKE_PATH = '/2015-03-31/functions/function/invocations';

/**
 * Lambda-style route served by the `lambda` profile: any function name
 * (docs/lambda-apis.md#invoke-api-requests).
 */
export const LAMBDA_INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/**
 * The streaming route (docs/lambda-apis.md#response-streaming): Lambda's
 * `InvokeWithResponseStream` path, served by both profiles with any function name in `lambda` and
 * `function` in `rie`. AWS's RIE has no such route (it answers 404), which is how the pool tells the
 * two apart.
 */
export const STREAM_INVOKE_PATH = /^\/2021-11-15\/functions\/([^/]+)\/response-streaming-invocations$/;

/** The streaming route as the pool calls it on an instance. */
export const STREAM_INVOKE_ROUTE = '/2021-11-15/functions/function/response-streaming-invocations';

/**
 * How many bytes a streamed response may carry before the invocation fails with
 * `Function.ResponseSizeTooLarge`: 20 MiB, Lambda's streaming limit when streaming was introduced
 * (docs/lambda-apis.md#payload-limits).
 */
export const STREAMED_RESPONSE_LIMIT_BYTES = 20 * 1024 * 1024;

/**
 * Trailers of the streaming route: how the invocation ended, sent after the last chunk (the outcome
 * is not known when the first byte goes out). `kind` uses the pool's outcome names; `errorBody` is
 * base64 of the error document (as the Runtime API's own error trailer).
 */
export const StreamTrailers = {
  kind: 'lambda-testkit-outcome',
  requestId: 'lambda-testkit-request-id',
  errorType: 'lambda-runtime-function-error-type',
  errorBody: 'lambda-runtime-function-error-body',
} as const;

/**
 * 6 MiB + 100 bytes: RIE's `interop.MaxPayloadSize`, for requests and responses
 * (docs/lambda-apis.md#posting-results).
 */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 + 100;

export const RUNTIME_API_PREFIX = '/2018-06-01';

/**
 * The per-instance invoke secret: the backend puts it in the emulator's environment (read once at
 * start, never forwarded to the runtime, never printed), and the pool sends it on every invoke in
 * {@link INVOKE_SECRET_HEADER}. Without it set, the emulator checks nothing (as AWS's RIE).
 * AWS's RIE ignores both, so the pool may always send the header (docs/security.md).
 */
export const INVOKE_SECRET_VARIABLE = 'LAMBDA_TESTKIT_INVOKE_SECRET';

/**
 * A launcher the runtime is started through (JSON array: the argv put before the runtime's own command).
 * The process backend sets it to confine the runtime in its own mount namespace
 * (docs/emulator.md#file-system); the launcher then enters LAMBDA_TASK_ROOT itself, so the runtime is
 * spawned in the emulator's own working directory. Read by the emulator, never forwarded to the runtime.
 */
export const RUNTIME_WRAPPER_VARIABLE = 'LAMBDA_TESTKIT_RUNTIME_WRAPPER';

/**
 * The host folder of a process-backend instance, in the environment of its emulator and runtime: the
 * mark by which the backend (and the sweep of dead runs) finds every process of the instance, since
 * LAMBDA_TASK_ROOT is the same `/var/task` in every confined runtime.
 */
export const SANDBOX_MARKER_VARIABLE = 'LAMBDA_TESTKIT_SANDBOX';

/** The request header that carries the invoke secret. */
export const INVOKE_SECRET_HEADER = 'x-lambda-testkit-invoke-secret';

/**
 * lambda-testkit's own invoke header (AWS's RIE ignores it): the qualifier the caller named, which
 * Lambda appends to the invoked function ARN the runtime gets (docs/lambda-apis.md#qualifiers).
 */
export const QUALIFIER_HEADER = 'x-lambda-testkit-qualifier';

/**
 * lambda-testkit's own invoke header (AWS's RIE ignores it): the request id to give the invocation,
 * so that the pool server's 202 for an Event call names the id the handler sees.
 */
export const REQUEST_ID_HEADER = 'x-lambda-testkit-request-id';
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

/** A version (`$LATEST`, `1`) or alias name, as the Invoke API accepts it. */
export const QUALIFIER_PATTERN = /^[A-Za-z0-9$_-]{1,128}$/;

export const Headers = {
  requestId: 'lambda-runtime-aws-request-id',
  deadlineMs: 'lambda-runtime-deadline-ms',
  functionArn: 'lambda-runtime-invoked-function-arn',
  traceId: 'lambda-runtime-trace-id',
  clientContext: 'lambda-runtime-client-context',
  cognitoIdentity: 'lambda-runtime-cognito-identity',
  tenantId: 'lambda-runtime-aws-tenant-id',
  errorType: 'lambda-runtime-function-error-type',
  errorBody: 'lambda-runtime-function-error-body',
  responseMode: 'lambda-runtime-function-response-mode',
} as const;

/** The JSON error document both sides use: `{"errorMessage","errorType"}` (RIE's render_error.go order). */
export function runtimeApiError(errorType: string, errorMessage: string): string {
  return JSON.stringify({ errorMessage, errorType });
}

/** Invoke-side error document in the Node runtime's key order (`errorType` first). */
export function invokeError(errorType: string, errorMessage: string): string {
  return JSON.stringify({ errorType, errorMessage });
}

/** Where the emulator's inspector proxy listens (`host:port`, port 0 for a free one); unset, no inspector. */
export const INSPECT_VARIABLE = 'LAMBDA_TESTKIT_INSPECT';
/** `true`: the debugged runtime waits for a debugger before it loads the handler (`--inspect-wait`). */
export const INSPECT_WAIT_VARIABLE = 'LAMBDA_TESTKIT_INSPECT_WAIT';

/**
 * The variables that make the emulator debug its runtime: its inspector proxy listens at `address`
 * (the runtime's own inspector sits behind it) and holds the function timeout while a debugger is
 * attached (inspector-proxy.ts, docs/debugging.md).
 */
export function inspectEnvironment(address: string, debug: { wait: boolean }): Record<string, string> {
  return { [INSPECT_VARIABLE]: address, [INSPECT_WAIT_VARIABLE]: String(debug.wait) };
}
