/**
 * An in-process stand-in for one instance's RIE: an HTTP server on 127.0.0.1 that answers the
 * classic invoke route with whatever a pluggable handler says, prints RIE's START/END/REPORT lines
 * into a LineLog, and records what a test needs to check the pool: calls, and the PEAK number of
 * requests in flight at once (the AWS RIE dies on overlap, aws-lambda-runtime-interface-emulator#97).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { LineLog } from '../instance-logs.ts';

export interface FakeRieRequest {
  /** The request body as the pool sent it. */
  body: Buffer;
  /** The body parsed as JSON, or undefined. */
  event: unknown;
  requestId: string;
  clientContext: string | undefined;
  /** `X-Amzn-Trace-Id` as the pool sent it. */
  traceId: string | undefined;
  /** 1 for the first call this instance serves. */
  sequence: number;
}

/**
 * What the fake answers: `status` (default 200) and `body` (objects are sent as JSON), after
 * `delayMs`. With `drop: 'mid-response'` the headers and half of the body are sent, then the socket
 * is destroyed. (To cut a connection before the request is read, use `dropNextBeforeRead()`.)
 */
export interface FakeRieReply {
  status?: number;
  body?: string | Uint8Array | object | null;
  delayMs?: number;
  drop?: 'mid-response';
}

export type FakeRieHandler = (request: FakeRieRequest) => FakeRieReply | Promise<FakeRieReply>;

export interface FakeRieOptions {
  /** Answers each call. @default echoes the event back with status 200 */
  handler?: FakeRieHandler;
  /** Memory size printed in REPORT lines. @default 128 */
  memorySize?: number;
}

const INVOKE_ROUTE = '/2015-03-31/functions/function/invocations';

const echo: FakeRieHandler = (request) => ({ body: request.body });

function toBuffer(body: FakeRieReply['body']): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  return Buffer.from(JSON.stringify(body));
}

export class FakeRie {
  /** START/END/REPORT lines, as RIE prints them to stdout. */
  readonly log = new LineLog();
  handler: FakeRieHandler;
  #server: Server;
  #sockets = new Set<Socket>();
  #memorySize: number;
  #inFlight = 0;
  #peak = 0;
  #calls = 0;
  #endpoint = '';
  #dropBeforeRead = 0;

  constructor(options: FakeRieOptions = {}) {
    this.handler = options.handler ?? echo;
    this.#memorySize = options.memorySize ?? 128;
    this.#server = createServer((req, res) => {
      void this.#serve(req, res);
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /** Listens on 127.0.0.1 and a free port; resolves with the endpoint URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.#server.address() as AddressInfo;
    this.#endpoint = `http://127.0.0.1:${port}`;
    return this.#endpoint;
  }

  get endpoint(): string {
    return this.#endpoint;
  }

  /** The most requests this instance ever had in flight at once. */
  get peakConcurrency(): number {
    return this.#peak;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Calls that reached the route (including dropped ones). */
  get calls(): number {
    return this.#calls;
  }

  get listening(): boolean {
    return this.#server.listening;
  }

  /** The next `count` calls are cut as soon as they arrive, before their body is read. */
  dropNextBeforeRead(count = 1): void {
    this.#dropBeforeRead += count;
  }

  /** Stops listening and cuts every open connection: the endpoint refuses connections afterwards. */
  async close(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#inFlight++;
    this.#peak = Math.max(this.#peak, this.#inFlight);
    try {
      if (req.method !== 'POST' || req.url !== INVOKE_ROUTE) {
        res.writeHead(404).end('404 page not found\n');
        return;
      }
      const sequence = ++this.#calls;
      if (this.#dropBeforeRead > 0) {
        this.#dropBeforeRead--;
        req.socket.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const requestId = randomUUID();
      this.log.write(`START RequestId: ${requestId} Version: $LATEST\n`);
      const started = Date.now();
      const clientContext = req.headers['x-amz-client-context'];
      const traceId = req.headers['x-amzn-trace-id'];
      const reply = await this.handler({
        body,
        event: parseJson(body),
        requestId,
        clientContext: typeof clientContext === 'string' ? clientContext : undefined,
        traceId: typeof traceId === 'string' ? traceId : undefined,
        sequence,
      });
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      const out = toBuffer(reply.body);
      if (reply.drop === 'mid-response') {
        // Length announced, part sent, connection cut: the client fails after its request was read.
        const announced = Math.max(out.length, 2);
        res.writeHead(200, { 'content-length': String(announced) });
        res.write(out.length > 1 ? out.subarray(0, Math.floor(out.length / 2)) : Buffer.from('{'));
        await new Promise((r) => setImmediate(r));
        req.socket.destroy();
        return;
      }
      // RIE answers with text/plain whatever the body is (docs/lambda-apis.md#rie-answers).
      res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(out);
      const ms = Date.now() - started;
      this.log.write(`END RequestId: ${requestId}\n`);
      this.log.write(
        `REPORT RequestId: ${requestId}\tDuration: ${ms.toFixed(2)} ms\tBilled Duration: ${Math.max(1, ms)} ms\t` +
          `Memory Size: ${this.#memorySize} MB\tMax Memory Used: ${this.#memorySize} MB\t\n`,
      );
    } finally {
      this.#inFlight--;
    }
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
