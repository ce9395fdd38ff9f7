/**
 * AWS-shaped error answers (docs/lambda-apis.md#service-errors): the SDK reads the code from
 * `x-amzn-errortype` and the message from `message`/`Message`. The body also carries the
 * LambdaTestkitError as JSON so the worker-side client can rethrow the same error.
 */

import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ServiceErrorBody } from '../client/protocol.ts';
import { ErrorCodes, LambdaTestkitError } from '../errors.ts';

export interface AwsErrorShape {
  status: number;
  type: string;
}

/** Status and AWS exception name for a testkit error raised while serving a call. */
export function awsShapeOf(error: LambdaTestkitError): AwsErrorShape {
  switch (error.code) {
    case ErrorCodes.UNKNOWN_FUNCTION:
      return { status: 404, type: 'ResourceNotFoundException' };
    case ErrorCodes.PAYLOAD_TOO_LARGE:
      return { status: 413, type: 'RequestTooLargeException' };
    case ErrorCodes.UNAUTHORIZED:
      return { status: 403, type: 'UnrecognizedClientException' };
    case ErrorCodes.LAUNCH_FAILED:
    case ErrorCodes.IMAGE_UNAVAILABLE:
    case ErrorCodes.DOCKER_UNAVAILABLE:
    case ErrorCodes.CONFIG_INVALID:
    case ErrorCodes.BAD_HANDLER:
    case ErrorCodes.CODE_NOT_FOUND:
    case ErrorCodes.UNSUPPORTED_RUNTIME:
    case ErrorCodes.BUNDLE_FAILED:
    case ErrorCodes.TEMPLATE_INVALID:
      // Lambda answers 502 when the function cannot be brought up (ResourceNotReady, InvalidRuntime, …).
      return { status: 502, type: 'ResourceNotReadyException' };
    case ErrorCodes.CALL_DEADLOCK:
    // Lambda's answer when a function's concurrency is used up (here: by its own call chain).
    case ErrorCodes.THROTTLED:
      return { status: 429, type: 'TooManyRequestsException' };
    case ErrorCodes.POOL_STOPPED:
      return { status: 503, type: 'ServiceException' };
    default:
      return { status: 500, type: 'ServiceException' };
  }
}

export function sendAwsError(
  res: ServerResponse,
  status: number,
  type: string,
  error: LambdaTestkitError,
  extraHeaders: Record<string, string> = {},
): void {
  const body: ServiceErrorBody = {
    Type: status < 500 ? 'User' : 'Service',
    message: error.message,
    Message: error.message,
    testkitError: error.toJSON(),
  };
  // Lambda's throttling answer names why (`Reason`), which the SDK exposes on the exception.
  if (typeof error.details.reason === 'string') body.Reason = error.details.reason;
  const text = JSON.stringify(body);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-errortype': type,
    'x-amzn-requestid': randomUUID(),
    ...extraHeaders,
  });
  res.end(text);
}

/** Answers any thrown value in the AWS shape its testkit error maps to (awsShapeOf). */
export function sendThrownAsAwsError(res: ServerResponse, thrown: unknown): void {
  const error = asTestkitError(thrown);
  const shape = awsShapeOf(error);
  sendAwsError(res, shape.status, shape.type, error);
}

/** Any thrown value as a testkit error (unexpected ones become a 500 with their message). */
export function asTestkitError(value: unknown): LambdaTestkitError {
  if (value instanceof LambdaTestkitError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new LambdaTestkitError(
    ErrorCodes.PROTOCOL_ERROR,
    `The pool server failed unexpectedly: ${message}`,
    {
      cause: value,
    },
  );
}
