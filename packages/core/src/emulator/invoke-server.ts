/**
 * The invoke side: RIE's `POST /2015-03-31/functions/function/invocations`
 * (docs/lambda-apis.md#rie-answers), rendered in one of two profiles:
 * - `rie` (default): RIE's status codes and bodies byte for byte, so a suite that passes here passes
 *   against the AWS base images, plus two documented improvements: a second concurrent request gets
 *   429 `Runtime.ConcurrentInvocation` at once (RIE crashes, aws-lambda-runtime-interface-emulator#97),
 *   and a request over 6 291 556 bytes gets 413 (RIE truncates it silently).
 * - `lambda`: the Lambda Invoke API's shapes (docs/lambda-apis.md#invoke-api-requests):
 *   `X-Amz-Function-Error: Unhandled`, JSON timeout, AWS service errors with `x-amzn-errortype`, any function
 *   name in the path.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FunctionConfig } from './config.ts';
import { readBody } from './http-io.ts';
import {
  type InvokeHandling,
  internalError,
  json,
  type Profile,
  type Reply,
  serviceError,
} from './invoke-handling.ts';
import {
  INVOKE_SECRET_HEADER,
  invokeError,
  LAMBDA_INVOKE_PATH,
  MAX_PAYLOAD_BYTES,
  RIE_INVOKE_PATH,
  STREAM_INVOKE_PATH,
} from './protocol.ts';
import type { Sandbox } from './sandbox.ts';
import { streamReply } from './stream-reply.ts';

// Kept importable from here, where they were first defined.
export {
  decodeClientContext,
  type Failure,
  failureOf,
  PROFILES,
  type Profile,
} from './invoke-handling.ts';

// node:http through process.getBuiltinModule, not an ESM import: importing it as ESM makes Node build
// its module facade, which reads every export, lazy getters included, and one of them loads Node's
// bundled undici: ~30 ms of CPU at every start of this process (nodejs/node#57649, #59686).
const { createServer } = process.getBuiltinModule('node:http');

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

/**
 * The HTTP transport of `handling`: routing, the invoke secret, reading the body, streaming and the
 * Lambda profile's invocation types; the rest is `handling`'s, shared with the direct invoker.
 */
export function createInvokeServer(
  sandbox: Sandbox,
  config: FunctionConfig,
  profile: Profile,
  handling: InvokeHandling,
  guard: InvokeGuard,
): Server {
  const expected = guard.secret === undefined ? undefined : Buffer.from(guard.secret);

  /**
   * Constant time in the secret, without hashing on every invocation: the comparison always runs
   * over the secret's own length (against itself when the lengths differ), so neither its bytes nor
   * its length show in the time taken.
   */
  function authorized(req: IncomingMessage): boolean {
    if (!expected) return true;
    const header = req.headers[INVOKE_SECRET_HEADER];
    if (typeof header !== 'string') return false;
    const given = Buffer.from(header);
    const sameLength = given.length === expected.length;
    return timingSafeEqual(sameLength ? given : expected, expected) && sameLength;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Before anything else, the path included: without the secret nothing is revealed or read.
    if (!authorized(req)) return refuse(req, res, forbidden(profile));
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    // The streaming route is ours in both profiles (docs/lambda-apis.md#response-streaming).
    const streamMatch = req.method === 'POST' ? STREAM_INVOKE_PATH.exec(path) : null;
    const nameMatch = streamMatch ?? LAMBDA_INVOKE_PATH.exec(path);
    const routed =
      streamMatch !== null ||
      (profile === 'rie'
        ? path === RIE_INVOKE_PATH // RIE checks no method (docs/lambda-apis.md#rie-invoke-route)
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
    const input = handling.input(req.headers);
    if (!('event' in input)) return refuse(req, res, input);

    // Never more than the limit is read before the 413: a declared length over it is refused unread.
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_PAYLOAD_BYTES) {
      return refuse(req, res, handling.tooLarge(declared));
    }
    const read = await readBody(req, MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES);
    if (!read.ended) return refuse(req, res, handling.tooLarge(undefined));
    input.event = read.body;

    // The sandbox is reserved only now, with the whole request in hand: a slow or stalled sender
    // holds its own connection, never the sandbox (docs/security.md#instances-and-the-runtime-api).
    if (!handling.reserve()) return reply(res, handling.busy());
    try {
      if (streamMatch) return await streamReply(sandbox, input, res, config);
      const invocationType = req.headers['x-amz-invocation-type'];
      if (profile === 'lambda' && invocationType === 'DryRun') {
        return reply(res, { status: 204, body: '', headers: {} });
      }
      if (profile === 'lambda' && invocationType === 'Event') {
        // Accepted now, run in the background; the sandbox stays busy until it finishes.
        reply(res, { status: 202, body: '', headers: {} });
        handling.markAsync();
        await sandbox.invoke(input);
        return;
      }
      reply(res, await handling.invoke(input));
    } finally {
      handling.release();
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
        if (!res.headersSent) reply(res, internalError(error));
        else res.destroy();
      });
    },
  );
  return server;
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

function forbidden(profile: Profile): Reply {
  const message =
    "This instance answers only its lambda-testkit pool: the request lacks the instance's invoke secret " +
    `(header ${INVOKE_SECRET_HEADER}). Invoke the function through the pool (lambda.invoke, or the pool server's URL and token).`;
  if (profile === 'lambda') return serviceError(403, 'AccessDeniedException', message, 'Message');
  return json(403, invokeError('AccessDenied', message));
}
