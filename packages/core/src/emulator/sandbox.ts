/**
 * One function sandbox: the Lambda Runtime API server (lambda-protocol.md §2) and the runtime
 * process behind it, driven one invocation at a time. The invoke side (invoke-server.ts) decides
 * how an outcome is rendered; this module decides what the outcome is.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { type FunctionConfig, runtimeEnvironment } from './config.ts';
import { oomKillCount } from './oom-kills.ts';
import { Headers, MAX_PAYLOAD_BYTES, RUNTIME_API_PREFIX, runtimeApiError } from './protocol.ts';
import { readBody } from './read-body.ts';
import { endLine, reportLine, startLine } from './report-lines.ts';
import {
  type ExitReason,
  type RuntimeCommand,
  type RuntimeOutput,
  RuntimeProcess,
} from './runtime-process.ts';

export type Outcome =
  /** `/response` was posted. `streamError` holds the error trailers of a stream that failed midway. */
  | { kind: 'response'; body: Buffer; streamError?: { errorType: string; body: Buffer } }
  /** `/error` was posted (or the platform decided the invoke failed, e.g. a bad response mode). */
  | { kind: 'error'; body: Buffer; errorType: string }
  /** `/response` exceeded 6 291 556 bytes; the runtime got a 413. */
  | { kind: 'responseTooLarge'; size: number }
  | { kind: 'timeout'; timeoutSeconds: number }
  /** The runtime ended before answering. */
  | {
      kind: 'exit';
      reason: ExitReason /** The kernel's OOM killer ended the runtime (memory limit). */;
      outOfMemory?: boolean;
    }
  /** The runtime posted `/init/error` (and then ended). */
  | { kind: 'initError'; body: Buffer; errorType: string };

export interface InvokeInput {
  event: Buffer;
  /** Decoded `X-Amz-Client-Context` bytes (JSON text), forwarded as `Lambda-Runtime-Client-Context`. */
  clientContext?: Buffer;
  traceId?: string;
  tenantId?: string;
}

export interface InvokeResult {
  requestId: string;
  outcome: Outcome;
  durationMs: number;
  /** Set on a cold start. */
  initDurationMs?: number;
}

interface Invocation {
  requestId: string;
  input: InvokeInput;
  deadlineMs: number;
  reservedAt: number;
  deliveredAt?: number;
  /** The process started for this invocation (a cold start), if any. */
  spawned?: RuntimeProcess;
  outcome?: Outcome;
  settle(outcome: Outcome): void;
}

/** `started` until the first `/next` of a process; the 403 cases of §2.6 follow from it. */
type Phase = 'started' | 'ready' | 'running' | 'responded';

export interface SandboxOptions {
  config: FunctionConfig;
  handler: string;
  command: RuntimeCommand;
  /** The emulator's own environment; forwarded to the runtime (config.ts `runtimeEnvironment`). */
  env: NodeJS.ProcessEnv;
  runtimeApiPort: number;
  /** Where runtime output and START/END/REPORT go; inherit the emulator's stdio when unset. */
  output?: RuntimeOutput;
}

/** How long a runtime may linger after posting `/init/error` before its group is killed. */
const INIT_ERROR_GRACE_MS = 2_000;

const INVOCATION_PATH = new RegExp(`^${RUNTIME_API_PREFIX}/runtime/invocation/([^/]+)/(response|error)$`);

export class Sandbox {
  readonly #options: SandboxOptions;
  readonly #server: Server;
  readonly #stdout: Writable;
  #runtimeApi = '';
  #proc: RuntimeProcess | undefined;
  #phase: Phase = 'started';
  #initDoneAt: number | undefined;
  #initError: { body: Buffer; errorType: string } | undefined;
  #nextWaiter: ServerResponse | undefined;
  #current: Invocation | undefined;
  #closed = false;

  constructor(options: SandboxOptions) {
    this.#options = options;
    this.#stdout = options.output?.stdout ?? process.stdout;
    this.#server = createServer((req, res) => this.#route(req, res));
    // `/next` is a long poll with no server timeout (§2, "Do not set a timeout on the GET request").
    this.#server.requestTimeout = 0;
    this.#server.keepAliveTimeout = 0;
  }

  /** Starts the Runtime API on 127.0.0.1 and resolves with its port. */
  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.runtimeApiPort, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const port = (this.#server.address() as AddressInfo).port;
    this.#runtimeApi = `127.0.0.1:${port}`;
    return port;
  }

  get busy(): boolean {
    return this.#current !== undefined;
  }

  /** Runs one invocation; the caller guarantees there is no other in flight (`busy`). */
  async invoke(input: InvokeInput): Promise<InvokeResult> {
    if (this.#current) throw new Error('Sandbox.invoke called while another invocation is in flight');
    if (this.#closed) throw new Error('Sandbox is closed');
    const { config } = this.#options;
    const requestId = randomUUID();
    let settle: (outcome: Outcome) => void = () => {};
    const settled = new Promise<Outcome>((resolve) => {
      settle = resolve;
    });
    const inv: Invocation = {
      requestId,
      input,
      reservedAt: performance.now(),
      deadlineMs: Date.now() + config.timeoutSeconds * 1000,
      settle: (outcome) => {
        if (inv.outcome) return;
        inv.outcome = outcome;
        settle(outcome);
      },
    };
    this.#current = inv;
    // START before the runtime sees the event (and before a cold start), so that init output and
    // everything the handler prints fall between START and REPORT.
    this.#stdout.write(startLine(requestId, config.functionVersion));

    if (!this.#proc) inv.spawned = this.#spawn();
    // One timer for init + invoke, as RIE (§1.6).
    const timer = setTimeout(() => {
      inv.settle({ kind: 'timeout', timeoutSeconds: config.timeoutSeconds });
      this.#discardProcess();
    }, config.timeoutSeconds * 1000);
    if (this.#nextWaiter) this.#deliver(inv, this.#takeWaiter());

    const outcome = await settled;
    clearTimeout(timer);
    const now = performance.now();
    const durationMs = now - (inv.deliveredAt ?? inv.reservedAt);
    const initDurationMs = inv.spawned ? (this.#initDoneAt ?? now) - inv.spawned.startedAt : undefined;
    this.#stdout.write(endLine(requestId));
    this.#stdout.write(
      reportLine({
        requestId,
        durationMs,
        memorySizeMb: config.memorySizeMb,
        ...(initDurationMs === undefined ? {} : { initDurationMs }),
        ...(outcome.kind === 'exit' && outcome.outOfMemory ? { errorType: 'Runtime.OutOfMemory' } : {}),
      }),
    );
    this.#current = undefined;
    return { requestId, outcome, durationMs, ...(initDurationMs === undefined ? {} : { initDurationMs }) };
  }

  /** Kills the runtime group at once; safe in a synchronous `exit` handler. */
  killRuntime(): void {
    this.#proc?.kill();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const proc = this.#proc;
    this.#discardProcess();
    this.#current?.settle({ kind: 'exit', reason: 'signal: killed' });
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (proc) await proc.exited;
  }

  #spawn(): RuntimeProcess {
    const { env, config, handler, command, output } = this.#options;
    const proc = new RuntimeProcess(
      command,
      runtimeEnvironment(env, config, handler, this.#runtimeApi),
      config.taskRoot,
      output,
    );
    this.#proc = proc;
    this.#phase = 'started';
    this.#initDoneAt = undefined;
    this.#initError = undefined;
    void proc.exited.then((reason) => this.#onExit(proc, reason));
    return proc;
  }

  /** Forgets the current process (killed on timeout or close); its late exit event is ignored. */
  #discardProcess(): void {
    const proc = this.#proc;
    if (!proc) return;
    this.#proc = undefined;
    proc.kill();
    this.#nextWaiter?.destroy();
    this.#nextWaiter = undefined;
  }

  #onExit(proc: RuntimeProcess, reason: ExitReason): void {
    if (this.#proc !== proc) return;
    const wasWarm = this.#phase !== 'started';
    this.#proc = undefined;
    this.#initDoneAt ??= performance.now();
    this.#nextWaiter?.destroy();
    this.#nextWaiter = undefined;
    const inv = this.#current;
    if (!inv || inv.outcome) return;
    // A warm runtime that ends before taking the event (it answered the previous invoke, then exited,
    // e.g. after an uncaught exception) did not fail this invocation: it gets a fresh runtime, once.
    if (wasWarm && inv.deliveredAt === undefined && !inv.spawned && !this.#closed) {
      inv.spawned = this.#spawn();
      return;
    }
    const initError = this.#initError;
    const outOfMemory =
      reason === 'signal: killed' &&
      proc.oomKillsAtStart !== undefined &&
      (oomKillCount() ?? 0) > proc.oomKillsAtStart;
    inv.settle(
      initError
        ? { kind: 'initError', ...initError }
        : { kind: 'exit', reason, ...(outOfMemory ? { outOfMemory } : {}) },
    );
  }

  #takeWaiter(): ServerResponse {
    const waiter = this.#nextWaiter!;
    this.#nextWaiter = undefined;
    return waiter;
  }

  #deliver(inv: Invocation, res: ServerResponse): void {
    const { config } = this.#options;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [Headers.requestId]: inv.requestId,
      [Headers.deadlineMs]: String(inv.deadlineMs),
      [Headers.functionArn]: config.functionArn,
    };
    // The decoded client context is JSON text in UTF-8; as a latin1 string it goes out byte for byte.
    if (inv.input.clientContext?.length)
      headers[Headers.clientContext] = inv.input.clientContext.toString('latin1');
    if (inv.input.traceId) headers[Headers.traceId] = inv.input.traceId;
    if (inv.input.tenantId) headers[Headers.tenantId] = inv.input.tenantId;
    this.#phase = 'running';
    inv.deliveredAt = performance.now();
    res.writeHead(200, headers);
    res.end(inv.input.event);
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === `${RUNTIME_API_PREFIX}/runtime/invocation/next`) {
      this.#next(res);
      return;
    }
    if (req.method === 'POST' && path === `${RUNTIME_API_PREFIX}/runtime/init/error`) {
      void this.#postInitError(req, res);
      return;
    }
    const match = req.method === 'POST' ? INVOCATION_PATH.exec(path) : null;
    if (match) {
      void this.#postInvocation(req, res, decodeURIComponent(match[1]!), match[2] as 'response' | 'error');
      return;
    }
    if (req.method === 'GET' && path === `${RUNTIME_API_PREFIX}/ping`) {
      send(res, 200, 'pong', 'text/plain');
      return;
    }
    // Extensions, Logs and Telemetry APIs are not emulated: 404 as RIE does with extensions off (§2.7).
    req.resume();
    send(res, 404, '404 page not found\n', 'text/plain; charset=utf-8');
  }

  #next(res: ServerResponse): void {
    if (this.#phase === 'started') this.#initDoneAt ??= performance.now();
    this.#phase = 'ready';
    const inv = this.#current;
    if (inv && inv.deliveredAt === undefined && !inv.outcome) {
      this.#deliver(inv, res);
      return;
    }
    // A second /next while one waits replaces it (the runtime gave up on the first connection).
    this.#nextWaiter?.destroy();
    this.#nextWaiter = res;
    res.once('close', () => {
      if (this.#nextWaiter === res) this.#nextWaiter = undefined;
    });
  }

  async #postInvocation(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    what: 'response' | 'error',
  ): Promise<void> {
    const inv = this.#current;
    if (this.#phase === 'started') {
      req.resume();
      return sendJson(res, 403, invalidTransition(what));
    }
    if (!inv || inv.requestId !== requestId || this.#phase !== 'running' || inv.outcome) {
      req.resume();
      return sendJson(res, 400, runtimeApiError('InvalidRequestID', 'Invalid request ID'));
    }
    const mode = req.headers[Headers.responseMode];
    if (what === 'response' && mode !== undefined && mode !== 'streaming') {
      req.resume();
      this.#phase = 'responded';
      sendJson(res, 400, runtimeApiError('InvalidFunctionResponseMode', 'Invalid function response mode'));
      const errorType = 'Runtime.InvalidResponseModeHeader';
      return inv.settle({
        kind: 'error',
        errorType,
        body: Buffer.from(
          JSON.stringify({ errorType, errorMessage: `Invalid response mode header: "${mode}"` }),
        ),
      });
    }
    // Claimed now: a second post for the same id is a 400, as in RIE.
    this.#phase = 'responded';
    let read: Awaited<ReturnType<typeof readBody>>;
    try {
      read = await readBody(req, MAX_PAYLOAD_BYTES);
    } catch {
      // The runtime went away mid-body; its exit (or the timeout) settles the invocation.
      return;
    }
    if (what === 'error') {
      sendJson(res, 202, '{"status":"OK"}');
      return inv.settle({ kind: 'error', body: read.body, errorType: errorTypeOf(req, read.body) });
    }
    if (read.size > MAX_PAYLOAD_BYTES) {
      sendJson(
        res,
        413,
        runtimeApiError(
          'RequestEntityTooLarge',
          `Exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`,
        ),
      );
      return inv.settle({ kind: 'responseTooLarge', size: read.size });
    }
    sendJson(res, 202, '{"status":"OK"}');
    const trailerType = req.trailers[Headers.errorType];
    if (mode === 'streaming' && trailerType) {
      const encoded = req.trailers[Headers.errorBody] ?? '';
      return inv.settle({
        kind: 'response',
        body: read.body,
        streamError: { errorType: trailerType, body: Buffer.from(encoded, 'base64') },
      });
    }
    inv.settle({ kind: 'response', body: read.body });
  }

  async #postInitError(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#phase !== 'started') {
      req.resume();
      return sendJson(res, 403, invalidTransition('init error'));
    }
    let read: Awaited<ReturnType<typeof readBody>>;
    try {
      read = await readBody(req, MAX_PAYLOAD_BYTES);
    } catch {
      return;
    }
    this.#initDoneAt ??= performance.now();
    this.#initError = { body: read.body, errorType: errorTypeOf(req, read.body) };
    sendJson(res, 202, '{"status":"OK"}');
    // Official clients exit after posting; one that lingers is killed so the invoke can finish (§2.5).
    const proc = this.#proc;
    setTimeout(() => proc?.kill(), INIT_ERROR_GRACE_MS).unref();
  }
}

function invalidTransition(what: string): string {
  return runtimeApiError(
    'InvalidStateTransition',
    `State transition from Started to ${what} failed for runtime. Error: the runtime must call /runtime/invocation/next first`,
  );
}

/** The header, or the body's `errorType`: the native Node client sends no header on `/error` (§2.4). */
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

function send(res: ServerResponse, status: number, body: string, contentType: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: string): void {
  send(res, status, body, 'application/json');
}
