/**
 * The HTTP side of the Lambda Runtime API (docs/lambda-apis.md#runtime-api): routes, request
 * bodies, status codes and the headers of the `/next` answer. What a request means for the
 * invocation in flight is the sandbox's decision (sandbox.ts, the state machine); this module only
 * speaks HTTP for it.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readBody, sendJson, sendText } from './http-io.ts';
import { Headers, MAX_PAYLOAD_BYTES, RUNTIME_API_PREFIX, runtimeApiError } from './protocol.ts';
import { type PeerVerdict, peerOfConnection } from './runtime-peer.ts';

// node:http through process.getBuiltinModule, not an ESM import: importing it as ESM makes Node build
// its module facade, which reads every export, lazy getters included, and one of them loads Node's
// bundled undici: ~30 ms of CPU at every start of this process (nodejs/node#57649, #59686).
const { createServer } = process.getBuiltinModule('node:http');

/** A post of `/response`, `/error` or `/init/error`, read to its end (at most MAX_PAYLOAD_BYTES kept). */
export interface ReceivedPost {
  body: Buffer;
  /** All the bytes the runtime sent (more than `body` holds when it sent too much). */
  size: number;
  /** The header, or the body's `errorType` (for `/error` and `/init/error`; '' for `/response`). */
  errorType: string;
  /** The error trailers of a streamed `/response` that failed midway. */
  streamError?: { errorType: string; body: Buffer };
}

/** An answer to the runtime: status and JSON body. */
export interface RuntimeApiAnswer {
  status: number;
  body: string;
}

/** What the state machine says to a post before its body is read. */
export type PostAdmission =
  /** Answer at once; the body is left unread. */
  | { refuse: RuntimeApiAnswer }
  /** Read the body, then hand it over and send what `accept` returns. */
  | { accept: (post: ReceivedPost) => RuntimeApiAnswer }
  /** A streamed `/response` relayed chunk by chunk as it arrives (the streaming invoke route). */
  | { relay: StreamRelay };

/** Where a streamed `/response` goes while it arrives. */
export interface StreamRelay {
  /** The first bytes (or the end) came; `contentType` is the runtime's header. */
  begin(contentType: string): void;
  /**
   * Hands over one chunk and resolves once the caller can take more (backpressure), or with false
   * once the caller is gone (the rest is then read and dropped, so the runtime can finish).
   */
  write(chunk: Buffer): Promise<boolean>;
  /** Bytes relayed before `overLimit` is called and relaying stops (the rest is read and dropped). */
  limit: number;
  overLimit(size: number): void;
  /** The body ended: its size and the error trailers, if any; the answer goes to the runtime. */
  end(post: { size: number; streamError?: { errorType: string; body: Buffer } }): RuntimeApiAnswer;
}

/** The state machine behind the routes. */
export interface RuntimeApiHandler {
  /** `GET /next`: answer now (writeNextEvent) or hold `res` until an event comes. */
  next(res: ServerResponse): void;
  invocationPost(
    requestId: string,
    what: 'response' | 'error',
    responseMode: string | undefined,
  ): PostAdmission;
  initErrorPost(): PostAdmission;
  /** The process group of the runtime the emulator started (its pid), if one is running. */
  runtimeGroup(): number | undefined;
  /** The uid the runtime runs as when it is not the emulator's own (LAMBDA_TESTKIT_RUNTIME_USER). */
  runtimeUid(): number | undefined;
}

/** The event of one invocation as `/next` delivers it. */
export interface NextEvent {
  requestId: string;
  deadlineMs: number;
  functionArn: string;
  event: Buffer;
  clientContext?: Buffer;
  traceId?: string;
  tenantId?: string;
}

export const ACCEPTED: RuntimeApiAnswer = { status: 202, body: '{"status":"OK"}' };

const NEXT_PATH = `${RUNTIME_API_PREFIX}/runtime/invocation/next`;
const INIT_ERROR_PATH = `${RUNTIME_API_PREFIX}/runtime/init/error`;
const PING_PATH = `${RUNTIME_API_PREFIX}/ping`;
const INVOCATION_PATH = new RegExp(`^${RUNTIME_API_PREFIX}/runtime/invocation/([^/]+)/(response|error)$`);

/** What was found out about one connection, for the runtime group it was checked against. */
interface PeerCheck {
  group: number | undefined;
  verdict: PeerVerdict;
}

export class RuntimeApiServer {
  readonly #server: Server;
  readonly #handler: RuntimeApiHandler;
  readonly #peers = new WeakMap<Socket, PeerCheck>();
  readonly #checking = new WeakMap<Socket, Promise<PeerCheck>>();

  constructor(handler: RuntimeApiHandler) {
    this.#handler = handler;
    this.#server = createServer((req, res) => this.#admit(req, res));
    // `/next` is a long poll with no server timeout (docs/lambda-apis.md#runtime-api).
    this.#server.requestTimeout = 0;
    this.#server.keepAliveTimeout = 0;
  }

  /** Listens on 127.0.0.1 and resolves with the port. */
  async listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /**
   * Only the runtime this emulator started may use the Runtime API: a connection from any other
   * process gets 403 and is closed (runtime-peer.ts, docs/security.md#instances-and-the-runtime-api).
   * Checked once per connection and runtime: a connection of a runtime since replaced is refused.
   */
  #admit(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const group = this.#handler.runtimeGroup();
    const known = this.#peers.get(socket);
    // The connection's later requests (every warm invoke's) are routed at once.
    if (known && known.group === group) {
      this.#decide(known, req, res);
      return;
    }
    // Its first: the request's body, if any, waits unread in the socket meanwhile.
    this.#check(socket, group).then(
      (check) => this.#decide(check, req, res),
      (error: unknown) => res.destroy(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** The verdict on `socket` for the runtime group `group`, one check at a time per connection. */
  #check(socket: Socket, group: number | undefined): Promise<PeerCheck> {
    const underway = this.#checking.get(socket);
    if (underway)
      return underway.then((check) => (check.group === group ? check : this.#check(socket, group)));
    const checking = peerOfConnection(
      socket.remotePort ?? -1,
      socket.localPort ?? -1,
      group,
      this.#handler.runtimeUid(),
    ).then((verdict) => {
      const check = { group, verdict };
      this.#peers.set(socket, check);
      this.#checking.delete(socket);
      return check;
    });
    this.#checking.set(socket, checking);
    return checking;
  }

  #decide(check: PeerCheck, req: IncomingMessage, res: ServerResponse): void {
    // `unknown`: this system does not say who holds a socket (no /proc); the refusal of a second
    // `/next` (sandbox.ts) is then the only guard.
    if (check.verdict !== 'other') {
      this.#route(req, res);
      return;
    }
    const body = runtimeApiError(
      'AccessDenied',
      'Only the runtime process this emulator started may use its Runtime API; this connection comes from another process.',
    );
    res.writeHead(403, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    res.end(body);
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === NEXT_PATH) {
      this.#handler.next(res);
      return;
    }
    if (req.method === 'POST' && path === INIT_ERROR_PATH) {
      void this.#post(req, res, this.#handler.initErrorPost(), 'init error');
      return;
    }
    const match = req.method === 'POST' ? INVOCATION_PATH.exec(path) : null;
    if (match) {
      const what = match[2] as 'response' | 'error';
      const mode = req.headers[Headers.responseMode];
      const admission = this.#handler.invocationPost(
        decodeURIComponent(match[1]!),
        what,
        typeof mode === 'string' ? mode : undefined,
      );
      void this.#post(req, res, admission, what, mode === 'streaming');
      return;
    }
    if (req.method === 'GET' && path === PING_PATH) {
      sendText(res, 200, 'pong', 'text/plain');
      return;
    }
    // Extensions, Logs and Telemetry APIs are not emulated: 404 as RIE does with extensions off.
    req.resume();
    sendText(res, 404, '404 page not found\n', 'text/plain; charset=utf-8');
  }

  async #post(
    req: IncomingMessage,
    res: ServerResponse,
    admission: PostAdmission,
    what: 'response' | 'error' | 'init error',
    streaming = false,
  ): Promise<void> {
    if ('refuse' in admission) {
      req.resume();
      sendJson(res, admission.refuse.status, admission.refuse.body);
      return;
    }
    if ('relay' in admission) {
      let size: number;
      try {
        size = await relayBody(req, admission.relay);
      } catch {
        return; // The runtime went away mid-body, as above.
      }
      const streamError = streamErrorOf(req);
      const answer = admission.relay.end(streamError ? { size, streamError } : { size });
      sendJson(res, answer.status, answer.body);
      return;
    }
    let read: Awaited<ReturnType<typeof readBody>>;
    try {
      read = await readBody(req, MAX_PAYLOAD_BYTES);
    } catch {
      // The runtime went away mid-body; its exit (or the timeout) settles the invocation.
      return;
    }
    const streamError = streaming ? streamErrorOf(req) : undefined;
    const post: ReceivedPost = {
      body: read.body,
      size: read.size,
      // A response body is not parsed for an error type (it may be megabytes of anything).
      errorType: what === 'response' ? '' : errorTypeOf(req, read.body),
      ...(streamError ? { streamError } : {}),
    };
    const answer = admission.accept(post);
    sendJson(res, answer.status, answer.body);
  }
}

/** Answers a held or fresh `/next` with the event and its invocation headers. */
export function writeNextEvent(res: ServerResponse, next: NextEvent): void {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [Headers.requestId]: next.requestId,
    [Headers.deadlineMs]: String(next.deadlineMs),
    [Headers.functionArn]: next.functionArn,
  };
  // The decoded client context is JSON text in UTF-8; as a latin1 string it goes out byte for byte.
  if (next.clientContext?.length) headers[Headers.clientContext] = next.clientContext.toString('latin1');
  if (next.traceId) headers[Headers.traceId] = next.traceId;
  if (next.tenantId) headers[Headers.tenantId] = next.tenantId;
  res.writeHead(200, headers);
  res.end(next.event);
}

/** The 403 of a post the state machine does not allow yet (docs/lambda-apis.md#runtime-api). */
export function invalidTransition(what: string): RuntimeApiAnswer {
  return {
    status: 403,
    body: runtimeApiError(
      'InvalidStateTransition',
      `State transition from Started to ${what} failed for runtime. Error: the runtime must call /runtime/invocation/next first`,
    ),
  };
}

/** The error trailers of a streamed body read to its end (docs/lambda-apis.md#response-streaming). */
function streamErrorOf(req: IncomingMessage): { errorType: string; body: Buffer } | undefined {
  const errorType = req.trailers[Headers.errorType];
  if (!errorType) return undefined;
  return { errorType, body: Buffer.from(req.trailers[Headers.errorBody] ?? '', 'base64') };
}

/**
 * Relays a streamed body chunk by chunk. Reading waits for each write to be taken, so a slow caller
 * slows the runtime down instead of filling memory. Past the limit, or once the caller is gone, the
 * rest is read and dropped so the runtime's post still completes. Resolves with all the bytes read.
 */
async function relayBody(req: IncomingMessage, relay: StreamRelay): Promise<number> {
  const contentType = req.headers['content-type'];
  relay.begin(typeof contentType === 'string' ? contentType : 'application/octet-stream');
  let size = 0;
  let relaying = true;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    const before = size;
    size += chunk.length;
    if (!relaying) continue;
    if (size > relay.limit) {
      relaying = false;
      if (relay.limit > before) await relay.write(chunk.subarray(0, relay.limit - before));
      relay.overLimit(size);
      continue;
    }
    relaying = await relay.write(chunk);
  }
  return size;
}

/** The header, or the body's `errorType`: the native Node client sends no header on `/error`. */
function errorTypeOf(req: IncomingMessage, body: Buffer): string {
  const header = req.headers[Headers.errorType];
  if (typeof header === 'string' && header) return header;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (
      parsed &&
      typeof parsed === 'object' &&
      'errorType' in parsed &&
      typeof parsed.errorType === 'string'
    ) {
      return parsed.errorType;
    }
  } catch {
    // Not JSON: fall through.
  }
  return 'Runtime.Unknown';
}
