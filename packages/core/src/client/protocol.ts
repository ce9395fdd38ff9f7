/**
 * The wire contract between the pool server and its clients, shared by both sides.
 * Pure constants: the worker-side client must stay free of main-process dependencies.
 */

/** Invoke API route prefix (Lambda's `2015-03-31` API version, as the AWS SDK sends it). */
export const INVOKE_PATH_PREFIX = '/2015-03-31/functions/';

/**
 * Response-streaming route prefix (`InvokeWithResponseStream`, API version `2021-11-15`):
 * `POST {prefix}{name}/response-streaming-invocations`, answered as an `application/vnd.amazon.eventstream`
 * body of `PayloadChunk` events and one `InvokeComplete` (docs/lambda-apis.md#response-streaming).
 */
export const STREAM_PATH_PREFIX = '/2021-11-15/functions/';
export const STREAM_PATH_SUFFIX = '/response-streaming-invocations';

/**
 * What the pool server adds to `InvokeComplete` for its own client, beside Lambda's `ErrorCode`,
 * `ErrorDetails` and `LogResult` (the AWS SDK ignores members it does not know).
 */
export interface StreamCompleteExtras {
  kind: string;
  requestId: string;
  coldStart: boolean;
  durationMs: number;
  queuedMs: number;
  instanceId: string;
  size: number;
  error?: { errorType: string; errorMessage: string; trace?: string[] };
  /** The call itself failed (no instance, lost instance): the testkit error, for revival. */
  testkitError?: { name: string; code: string; message: string; details: Record<string, unknown> };
}

/** The key of StreamCompleteExtras in the `InvokeComplete` JSON. */
export const STREAM_COMPLETE_EXTRAS_KEY = 'LambdaTestkit';

/** Private control routes (not part of the Lambda API). */
export const CONTROL_PREFIX = '/_testkit/';

/** Request payload limits of the Invoke API (docs/lambda-apis.md#invoke-api-responses). */
export const SYNC_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
export const ASYNC_PAYLOAD_LIMIT_BYTES = 1024 * 1024;
/** The Invoke API's payload limit for an invocation type. */
export function payloadLimitFor(invocationType: string): number {
  return invocationType === 'Event' ? ASYNC_PAYLOAD_LIMIT_BYTES : SYNC_PAYLOAD_LIMIT_BYTES;
}

/** One wording for an oversized payload, whether the client or the server notices it. */
export function payloadTooLargeMessage(name: string, invocationType: string, received: number): string {
  const limit = payloadLimitFor(invocationType);
  return (
    `Request must be smaller than ${limit} bytes for the InvokeFunction operation ` +
    `(${invocationType === 'Event' ? '1 MB for Event invocations' : '6 MB for synchronous invocations'}); ` +
    `got at least ${received} bytes for ${name}. Real Lambda rejects it too: send a smaller event ` +
    '(for large data, pass a reference such as an S3 key).'
  );
}

/** `X-Amz-Log-Result` carries the last 4 KB of the invocation's log. */
export const LOG_TAIL_BYTES = 4096;

/** Response headers the pool server adds beside Lambda's own (lower-case, as Node exposes them). */
export const TestkitHeaders = {
  coldStart: 'x-lambda-testkit-cold-start',
  instanceId: 'x-lambda-testkit-instance-id',
  durationMs: 'x-lambda-testkit-duration-ms',
  queuedMs: 'x-lambda-testkit-queued-ms',
  kind: 'x-lambda-testkit-outcome',
  traceId: 'x-lambda-testkit-trace-id',
} as const;

/** The static secret paired with the run token when the token is used as an AWS access key id. */
export const SDK_SECRET_ACCESS_KEY = 'lambda-testkit-local';

/** The body of every non-2xx answer: AWS-shaped, plus the testkit error for revival. */
export interface ServiceErrorBody {
  Type: 'User' | 'Service';
  message: string;
  Message: string;
  /** Why a 429 was answered, as Lambda says (`ReservedFunctionConcurrentInvocationLimitExceeded`). */
  Reason?: string;
  testkitError?: { name: string; code: string; message: string; details: Record<string, unknown> };
}
