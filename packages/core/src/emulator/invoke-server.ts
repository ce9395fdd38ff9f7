/**
 * The invoke side: RIE's `POST /2015-03-31/functions/function/invocations`
 * (docs/lambda-protocol.md#rie-answers), rendered in one of two profiles:
 * - `rie` (default): RIE's status codes and bodies byte for byte, so a suite that passes here passes
 *   against the AWS base images, plus two documented improvements: a second concurrent request gets
 *   429 `Runtime.ConcurrentInvocation` at once (RIE crashes, aws-lambda-runtime-interface-emulator#97),
 *   and a request over 6 291 556 bytes gets 413 (RIE truncates it silently).
 * - `lambda`: the Lambda Invoke API's shapes (docs/lambda-protocol.md#invoke-api-requests):
 *   `X-Amz-Function-Error: Unhandled`, JSON timeout, AWS service errors with `x-amzn-errortype`, any function
 *   name in the path.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FunctionConfig } from './config.ts';
import { readBody } from './http-io.ts';
import {
  INVOKE_SECRET_HEADER,
  invokeError,
  LAMBDA_INVOKE_PATH,
  MAX_PAYLOAD_BYTES,
  QUALIFIER_HEADER,
  QUALIFIER_PATTERN,
  REQUEST_ID_HEADER,
  REQUEST_ID_PATTERN,
  RIE_INVOKE_PATH,
  STREAM_INVOKE_PATH,
} from './protocol.ts';
import type { InvokeInput, InvokeResult, Outcome, Sandbox } from './sandbox.ts';
import { streamReply } from './stream-reply.ts';

// node:http through process.getBuiltinModule, not an ESM import: importing it as ESM makes Node build
// its module facade, which reads every export, lazy getters included, and one of them loads Node's
// bundled undici: ~30 ms of CPU at every start of this process (nodejs/node#57649, #59686).
const { createServer } = process.getBuiltinModule('node:http');

export type Profile = 'rie' | 'lambda';

export const PROFILES: readonly Profile[] = ['rie', 'lambda'];

interface Reply {
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

/** What guards the invoke endpoint (docs/security.md#instances-and-the-runtime-api). */
export interface InvokeGuard {
  /** Required in `x-lambda-testkit-invoke-secret` on every request when set; unset, nothing is checked. */
  secret?: string | undefined;
  /** Longest wait for a request's headers, from the connection or the previous request. */
  headersTimeoutMs: number;
  /** Longest wait for a whole request, headers and body (not the invocation: it starts after). */
  requestTimeoutMs: number;
}

/**
 * How many bytes past the limit are read and dropped after a refusal before the connection is closed:
 * closing with unread bytes makes the kernel reset the connection, which loses the answer for a caller
 * still uploading. Bounded, so a caller cannot make the emulator read forever.
 */
const LINGER_BYTES = 16 * 1024 * 1024;

export function createInvokeServer(
  sandbox: Sandbox,
  config: FunctionConfig,
  profile: Profile,
  guard: InvokeGuard,
): Server {
  let inFlight: string | undefined;
  const expected = guard.secret === undefined ? undefined : digest(guard.secret);

  function authorized(req: IncomingMessage): boolean {
    if (!expected) return true;
    const given = req.headers[INVOKE_SECRET_HEADER];
    return typeof given === 'string' && timingSafeEqual(digest(given), expected);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Before anything else, the path included: without the secret nothing is revealed or read.
    if (!authorized(req)) return refuse(req, res, forbidden(profile));
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    // The streaming route is ours in both profiles (docs/lambda-protocol.md#response-streaming).
    const streamMatch = req.method === 'POST' ? STREAM_INVOKE_PATH.exec(path) : null;
    const nameMatch = streamMatch ?? LAMBDA_INVOKE_PATH.exec(path);
    const routed =
      streamMatch !== null ||
      (profile === 'rie'
        ? path === RIE_INVOKE_PATH // RIE checks no method (docs/lambda-protocol.md#rie-invoke-route)
        : req.method === 'POST' && nameMatch !== null);
    if (!routed) {
      return refuse(req, res, {
        status: 404,
        body: '404 page not found\n',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
    }
    if (
      (profile === 'lambda' || streamMatch) &&
      !namesThisFunction(decodeURIComponent(nameMatch![1]!), config)
    ) {
      if (profile === 'rie') {
        return refuse(req, res, {
          status: 404,
          body: '404 page not found\n',
          headers: { 'content-type': 'text/plain; charset=utf-8' },
        });
      }
      return refuse(
        req,
        res,
        serviceError(
          404,
          'ResourceNotFoundException',
          `Function not found: ${config.functionArn}`,
          'Message',
        ),
      );
    }
    const input: InvokeInput = { event: Buffer.alloc(0) };
    const rawContext = req.headers['x-amz-client-context'];
    if (typeof rawContext === 'string' && rawContext !== '') {
      const decoded = decodeClientContext(rawContext);
      if (!decoded || !HEADER_SAFE.test(decoded.toString('latin1'))) {
        return refuse(req, res, badClientContext(profile, decoded === undefined));
      }
      input.clientContext = decoded;
    }
    const traceId = req.headers['x-amzn-trace-id'];
    if (typeof traceId === 'string' && traceId) input.traceId = traceId;
    const qualifier = req.headers[QUALIFIER_HEADER];
    if (typeof qualifier === 'string' && QUALIFIER_PATTERN.test(qualifier)) {
      input.functionArn = `${config.functionArn}:${qualifier}`;
    }
    const requestId = req.headers[REQUEST_ID_HEADER];
    if (typeof requestId === 'string' && REQUEST_ID_PATTERN.test(requestId)) input.requestId = requestId;
    const tenantId = req.headers['x-amz-tenant-id'];
    if (typeof tenantId === 'string' && tenantId) input.tenantId = tenantId;

    // Never more than the limit is read before the 413: a declared length over it is refused unread.
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_PAYLOAD_BYTES) {
      return refuse(req, res, requestTooLarge(profile, declared));
    }
    const read = await readBody(req, MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES);
    if (!read.ended) return refuse(req, res, requestTooLarge(profile, undefined));
    input.event = read.body;

    // The sandbox is reserved only now, with the whole request in hand: a slow or stalled sender
    // holds its own connection, never the sandbox (docs/security.md#instances-and-the-runtime-api).
    if (inFlight !== undefined) return reply(res, concurrencyError(profile, inFlight));
    inFlight = 'pending';
    try {
      if (streamMatch) return await streamReply(sandbox, input, res, config);
      const invocationType = req.headers['x-amz-invocation-type'];
      if (profile === 'lambda' && invocationType === 'DryRun') {
        return reply(res, { status: 204, body: '', headers: {} });
      }
      if (profile === 'lambda' && invocationType === 'Event') {
        // Accepted now, run in the background; the sandbox stays busy until it finishes.
        reply(res, { status: 202, body: '', headers: {} });
        inFlight = 'async';
        await sandbox.invoke(input);
        return;
      }
      const result = await sandbox.invoke(input);
      reply(res, profile === 'rie' ? rieReply(result) : lambdaReply(result, config));
    } finally {
      inFlight = undefined;
    }
  }

  const server = createServer(
    {
      headersTimeout: guard.headersTimeoutMs,
      // Covers receiving the request only: Node stops this clock once the body is complete, so an
      // invocation may still run for its whole function timeout (up to 15 minutes).
      requestTimeout: guard.requestTimeoutMs,
      // How often Node looks for expired requests (default 30 s, which would stretch both timeouts).
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, guard.headersTimeoutMs / 4)),
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          reply(res, {
            status: 500,
            body: invokeError(
              'Emulator.InternalError',
              error instanceof Error ? error.message : String(error),
            ),
            headers: { 'content-type': 'application/json' },
          });
        } else res.destroy();
      });
    },
  );
  return server;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * Answers a request whose body is not wanted, at once. What the caller still sends is then read and
 * dropped, up to LINGER_BYTES, so that a caller still uploading can read the answer (closing with
 * unread bytes makes the kernel reset the connection); past that, the connection is cut. The request
 * timeout bounds the time the same way.
 */
function refuse(req: IncomingMessage, res: ServerResponse, r: Reply): void {
  reply(res, r);
  if (req.complete) return;
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) req.socket.destroy();
  });
  req.on('error', () => {});
  req.resume();
}

function namesThisFunction(name: string, config: FunctionConfig): boolean {
  if (name === 'function' || name === config.functionName) return true;
  // Full or partial ARN, optionally with a qualifier: `...:function:<name>[:qualifier]`.
  const afterFunction = name.split(':function:')[1];
  return afterFunction?.split(':')[0] === config.functionName;
}

function reply(res: ServerResponse, r: Reply): void {
  const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
  res.writeHead(r.status, { ...r.headers, 'content-length': String(body.length) });
  res.end(body);
}

function json(status: number, body: string | Buffer, extra: Record<string, string> = {}): Reply {
  return { status, body, headers: { 'content-type': 'application/json', ...extra } };
}

function serviceError(
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

function forbidden(profile: Profile): Reply {
  const message =
    "This instance answers only its lambda-testkit pool: the request lacks the instance's invoke secret " +
    `(header ${INVOKE_SECRET_HEADER}). Invoke the function through the pool (lambda.invoke, or the pool server's URL and token).`;
  if (profile === 'lambda') return serviceError(403, 'AccessDeniedException', message, 'Message');
  return json(403, invokeError('AccessDenied', message));
}

function badClientContext(profile: Profile, notBase64: boolean): Reply {
  const message = notBase64
    ? 'X-Amz-Client-Context is not valid base64. Send base64 of the client context JSON (standard alphabet, with padding).'
    : 'X-Amz-Client-Context decodes to bytes that cannot be forwarded in an HTTP header (control characters). Send base64 of single-line JSON.';
  if (profile === 'lambda') return serviceError(400, 'InvalidRequestContentException', message);
  // RIE answers 500 with an empty body (docs/lambda-protocol.md#rie-request-headers); same status, but say
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
 * RIE's answers (docs/lambda-protocol.md#rie-answers). Go sniffs the body's type, which for JSON and text is
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
      // (docs/lambda-protocol.md#response-streaming): partial body, 200.
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
 * The Invoke API's answers (docs/lambda-protocol.md#invoke-api-responses,
 * docs/lambda-protocol.md#function-errors-on-lambda): function errors are 200 + `X-Amz-Function-Error:
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
