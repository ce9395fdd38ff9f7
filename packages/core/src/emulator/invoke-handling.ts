/**
 * What an invoke request means, apart from how it came: the invocation's input read from the
 * request's headers, the payload limit, the one-invocation-at-a-time guard, the sandbox's invoke and
 * the answer in the emulator's profile (docs/lambda-apis.md#rie-answers). The invoke server
 * (HTTP) and the direct invoker (a caller in the same process: the process backend's pool,
 * docs/architecture.md#process-backend) both go through it, so both answer with the same bytes.
 */
import type { FunctionConfig } from './config.ts';
import {
  invokeError,
  MAX_PAYLOAD_BYTES,
  QUALIFIER_HEADER,
  QUALIFIER_PATTERN,
  REQUEST_ID_HEADER,
  REQUEST_ID_PATTERN,
} from './protocol.ts';
import type { InvokeInput, InvokeResult, Outcome, Sandbox } from './sandbox.ts';

export type Profile = 'rie' | 'lambda';

export const PROFILES: readonly Profile[] = ['rie', 'lambda'];

export interface Reply {
  status: number;
  body: Buffer | string;
  headers: Record<string, string>;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Go's `base64.StdEncoding.DecodeString` is strict; Node's decoder is not, so check first. */
export function decodeClientContext(header: string): Buffer | undefined {
  return STRICT_BASE64.test(header) ? Buffer.from(header, 'base64') : undefined;
}

/** Header values must be representable on the wire (RIE would forward the bytes; Node refuses control chars). */
const HEADER_SAFE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function json(status: number, body: string | Buffer, extra: Record<string, string> = {}): Reply {
  return { status, body, headers: { 'content-type': 'application/json', ...extra } };
}

export function serviceError(
  status: number,
  type: string,
  message: string,
  key: 'message' | 'Message' = 'message',
): Reply {
  return json(status, JSON.stringify({ Type: 'User', [key]: message }), { 'x-amzn-errortype': type });
}

function concurrencyError(profile: Profile, inFlight: string): Reply {
  const message =
    'This emulator runs one invocation at a time, like a Lambda sandbox, and one is already in flight' +
    `${inFlight === 'async' ? ' (an asynchronous Event invocation)' : ''}. ` +
    'Send invocations one after another, or start one emulator per concurrent invocation (the lambda-testkit pool does).';
  if (profile === 'lambda') {
    return json(429, JSON.stringify({ Type: 'User', message, Reason: 'ConcurrentInvocationLimitExceeded' }), {
      'x-amzn-errortype': 'TooManyRequestsException',
      'retry-after': '1',
    });
  }
  return json(429, invokeError('Runtime.ConcurrentInvocation', message), { 'retry-after': '1' });
}

/** `size` undefined: a body without a declared length that went past the limit (it was not read further). */
function requestTooLarge(profile: Profile, size: number | undefined): Reply {
  const sent = size === undefined ? `more than ${MAX_PAYLOAD_BYTES} bytes` : `${size} bytes`;
  const message = `Request payload size (${sent}) exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes). Send a smaller event.`;
  if (profile === 'lambda') return serviceError(413, 'RequestTooLargeException', message);
  return json(413, invokeError('RequestEntityTooLarge', message));
}

function badClientContext(profile: Profile, notBase64: boolean): Reply {
  const message = notBase64
    ? 'X-Amz-Client-Context is not valid base64. Send base64 of the client context JSON (standard alphabet, with padding).'
    : 'X-Amz-Client-Context decodes to bytes that cannot be forwarded in an HTTP header (control characters). Send base64 of single-line JSON.';
  if (profile === 'lambda') return serviceError(400, 'InvalidRequestContentException', message);
  // RIE answers 500 with an empty body (docs/lambda-apis.md#rie-request-headers); same status, but say
  // why.
  return json(500, invokeError('InvalidClientContext', message));
}

function timeoutText(seconds: number): string {
  return `Task timed out after ${seconds}.00 seconds`;
}

function exitMessage(requestId: string, outcome: Extract<Outcome, { kind: 'exit' }>): string {
  return outcome.reason === undefined
    ? `RequestId: ${requestId} Error: Runtime exited without providing a reason`
    : `RequestId: ${requestId} Error: Runtime exited with error: ${outcome.reason}`;
}

/** Lambda reports a runtime killed for its memory as `Runtime.OutOfMemory` (docs/emulator.md#memory). */
function exitErrorType(outcome: Extract<Outcome, { kind: 'exit' }>): string {
  return outcome.outOfMemory ? 'Runtime.OutOfMemory' : 'Runtime.ExitError';
}

function tooLargeBody(size: number, limit: number): string {
  return invokeError(
    'Function.ResponseSizeTooLarge',
    `Response payload size (${size} bytes) exceeded maximum allowed payload size (${limit} bytes).`,
  );
}

/**
 * RIE's answers (docs/lambda-apis.md#rie-answers). Go sniffs the body's type, which for JSON and text is
 * `text/plain`.
 */
function rieReply({ requestId, outcome }: InvokeResult): Reply {
  const text = (status: number, body: Buffer | string): Reply => ({
    status,
    body,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  });
  switch (outcome.kind) {
    case 'response':
      // RIE buffers streamed responses and ignores the error trailers
      // (docs/lambda-apis.md#response-streaming): partial body, 200.
      return text(200, outcome.body);
    case 'error':
      return text(200, outcome.body);
    case 'responseTooLarge':
      return text(200, tooLargeBody(outcome.size, outcome.limit));
    case 'timeout':
      return text(200, timeoutText(outcome.timeoutSeconds));
    case 'exit':
      return text(502, invokeError(exitErrorType(outcome), exitMessage(requestId, outcome)));
    case 'initError':
      return text(502, outcome.body);
  }
}

/**
 * The Invoke API's answers (docs/lambda-apis.md#invoke-api-responses,
 * docs/lambda-apis.md#function-errors-on-lambda): function errors are 200 + `X-Amz-Function-Error:
 * Unhandled`.
 */
function lambdaReply(result: InvokeResult, config: FunctionConfig): Reply {
  const base = { 'x-amzn-requestid': result.requestId, 'x-amz-executed-version': config.functionVersion };
  const failure = failureOf(result);
  if (failure) return json(200, failure.body, { ...base, 'x-amz-function-error': 'Unhandled' });
  return json(200, result.outcome.kind === 'response' ? result.outcome.body : '', base);
}

/** How an invocation failed, as the Invoke API reports it; undefined for a success. */
export interface Failure {
  /** The pool's name for the outcome (`classify.ts`): handled, timeout, exit, init, oversized. */
  kind: 'handled' | 'timeout' | 'exit' | 'init' | 'oversized';
  errorType: string;
  /** The error document the caller gets. */
  body: Buffer | string;
}

export function failureOf({ requestId, outcome }: InvokeResult): Failure | undefined {
  switch (outcome.kind) {
    case 'response':
      return outcome.streamError
        ? { kind: 'handled', errorType: outcome.streamError.errorType, body: outcome.streamError.body }
        : undefined;
    case 'error':
      return { kind: 'handled', errorType: outcome.errorType, body: outcome.body };
    case 'initError':
      return { kind: 'init', errorType: outcome.errorType, body: outcome.body };
    case 'responseTooLarge':
      return {
        kind: 'oversized',
        errorType: 'Function.ResponseSizeTooLarge',
        body: tooLargeBody(outcome.size, outcome.limit),
      };
    case 'timeout':
      return {
        kind: 'timeout',
        errorType: 'Sandbox.Timedout',
        body: invokeError(
          'Sandbox.Timedout',
          `RequestId: ${requestId} Error: ${timeoutText(outcome.timeoutSeconds)}`,
        ),
      };
    case 'exit':
      return {
        kind: 'exit',
        errorType: exitErrorType(outcome),
        body: invokeError(exitErrorType(outcome), exitMessage(requestId, outcome)),
      };
  }
}

/** Request headers as `node:http` gives them (lower-case names). */
export type InvokeHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** One buffered invocation asked of the emulator without HTTP: what the headers would carry, and the event. */
export interface DirectInvokeRequest {
  /** The event, as the request body. */
  payload: Uint8Array;
  /** As `X-Amz-Client-Context` (base64 JSON). */
  clientContext?: string | undefined;
  /** As `X-Amzn-Trace-Id`. */
  traceId?: string | undefined;
  /** As `x-lambda-testkit-qualifier`. */
  qualifier?: string | undefined;
  /** As `x-lambda-testkit-request-id`. */
  requestId?: string | undefined;
  /** As `X-Amz-Tenant-Id`. */
  tenantId?: string | undefined;
}

/** The answer the invoke route would have sent: status, headers (without `content-length`), body. */
export interface DirectAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Leading and trailing spaces and tabs, which `node:http` strips from every header value it parses. */
const OUTER_WHITESPACE = /^[\t ]+|[\t ]+$/g;

/** A header value as the HTTP route would read it. */
function asHeader(value: string | undefined): string | undefined {
  return value === undefined ? undefined : value.replace(OUTER_WHITESPACE, '');
}

/** One emulator's invoke handling, shared by its transports; it holds the one-invocation guard. */
export class InvokeHandling {
  readonly #sandbox: Sandbox;
  readonly #config: FunctionConfig;
  readonly #profile: Profile;
  /** What holds the sandbox: undefined when free, 'pending' for a call, 'async' for an Event invocation. */
  #inFlight: string | undefined;

  constructor(sandbox: Sandbox, config: FunctionConfig, profile: Profile) {
    this.#sandbox = sandbox;
    this.#config = config;
    this.#profile = profile;
  }

  /** The invocation's input (its event still empty) from the request headers, or the answer refusing them. */
  input(headers: InvokeHeaders): InvokeInput | Reply {
    const input: InvokeInput = { event: Buffer.alloc(0) };
    const rawContext = headers['x-amz-client-context'];
    if (typeof rawContext === 'string' && rawContext !== '') {
      const decoded = decodeClientContext(rawContext);
      if (!decoded || !HEADER_SAFE.test(decoded.toString('latin1'))) {
        return badClientContext(this.#profile, decoded === undefined);
      }
      input.clientContext = decoded;
    }
    const traceId = headers['x-amzn-trace-id'];
    if (typeof traceId === 'string' && traceId) input.traceId = traceId;
    const qualifier = headers[QUALIFIER_HEADER];
    if (typeof qualifier === 'string' && QUALIFIER_PATTERN.test(qualifier)) {
      input.functionArn = `${this.#config.functionArn}:${qualifier}`;
    }
    const requestId = headers[REQUEST_ID_HEADER];
    if (typeof requestId === 'string' && REQUEST_ID_PATTERN.test(requestId)) input.requestId = requestId;
    const tenantId = headers['x-amz-tenant-id'];
    if (typeof tenantId === 'string' && tenantId) input.tenantId = tenantId;
    return input;
  }

  /** The refusal of a payload over MAX_PAYLOAD_BYTES; `size` undefined when it was not read to its end. */
  tooLarge(size: number | undefined): Reply {
    return requestTooLarge(this.#profile, size);
  }

  /**
   * Takes the sandbox for one invocation: true when it was free (`release` gives it back), false when
   * one is in flight (`busy` is then the answer).
   */
  reserve(): boolean {
    if (this.#inFlight !== undefined) return false;
    this.#inFlight = 'pending';
    return true;
  }

  /** The reserved sandbox now runs an asynchronous Event invocation (named in the refusal of others). */
  markAsync(): void {
    this.#inFlight = 'async';
  }

  release(): void {
    this.#inFlight = undefined;
  }

  /** The refusal of a second invocation while one is in flight. */
  busy(): Reply {
    return concurrencyError(this.#profile, this.#inFlight ?? 'pending');
  }

  /** Runs a reserved invocation and renders its result in the profile. */
  async invoke(input: InvokeInput): Promise<Reply> {
    const result = await this.#sandbox.invoke(input);
    return this.#profile === 'rie' ? rieReply(result) : lambdaReply(result, this.#config);
  }

  /** A buffered invocation asked in-process: the answer the invoke route gives the same request. */
  async direct(request: DirectInvokeRequest): Promise<DirectAnswer> {
    let reply: Reply;
    try {
      reply = await this.#direct(request);
    } catch (error) {
      reply = internalError(error);
    }
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
    return { statusCode: reply.status, headers: reply.headers, body };
  }

  async #direct(request: DirectInvokeRequest): Promise<Reply> {
    // The same headers the HTTP client would send, read by the same code.
    const input = this.input({
      'x-amz-client-context': asHeader(request.clientContext),
      'x-amzn-trace-id': asHeader(request.traceId),
      [QUALIFIER_HEADER]: asHeader(request.qualifier),
      [REQUEST_ID_HEADER]: asHeader(request.requestId),
      'x-amz-tenant-id': asHeader(request.tenantId),
    });
    if (!('event' in input)) return input;
    const { payload } = request;
    if (payload.byteLength > MAX_PAYLOAD_BYTES) return this.tooLarge(payload.byteLength);
    // A copy, as the HTTP route's read body is: the runtime may fetch the event later (a cold start),
    // after the caller has reused its buffer.
    input.event = Buffer.from(payload);
    if (!this.reserve()) return this.busy();
    try {
      return await this.invoke(input);
    } finally {
      this.release();
    }
  }
}

/** The answer to a failure of the emulator itself while handling a request. */
export function internalError(error: unknown): Reply {
  return {
    status: 500,
    body: invokeError('Emulator.InternalError', error instanceof Error ? error.message : String(error)),
    headers: { 'content-type': 'application/json' },
  };
}
