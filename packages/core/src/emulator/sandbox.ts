/**
 * One function sandbox: the state machine of the Lambda Runtime API (docs/lambda-protocol.md#runtime-api) and
 * the runtime process behind it, driven one invocation at a time. The HTTP side of the Runtime API is
 * runtime-api-server.ts; the invoke side (invoke-server.ts) decides how an outcome is rendered; this module
 * decides what the outcome is.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { type FunctionConfig, runtimeEnvironment } from './config.ts';
import { MAX_PAYLOAD_BYTES, runtimeApiError } from './protocol.ts';
import { endLine, reportLine, startLine } from './report-lines.ts';
import {
  ACCEPTED,
  invalidTransition,
  type PostAdmission,
  type RuntimeApiHandler,
  RuntimeApiServer,
  writeNextEvent,
} from './runtime-api-server.ts';
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
  | { kind: 'exit'; reason: ExitReason }
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

/** `started` until the first `/next` of a process; the 403 cases of the Runtime API follow from it. */
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

export class Sandbox implements RuntimeApiHandler {
  readonly #options: SandboxOptions;
  readonly #server: RuntimeApiServer;
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
    this.#server = new RuntimeApiServer(this);
  }

  /** Starts the Runtime API on 127.0.0.1 and resolves with its port. */
  async listen(): Promise<number> {
    const port = await this.#server.listen(this.#options.runtimeApiPort);
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
    // One timer for init + invoke, as RIE (docs/lambda-protocol.md#rie-lifecycle-and-log-lines).
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
    await this.#server.close();
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
    inv.settle(initError ? { kind: 'initError', ...initError } : { kind: 'exit', reason });
  }

  #takeWaiter(): ServerResponse {
    const waiter = this.#nextWaiter!;
    this.#nextWaiter = undefined;
    return waiter;
  }

  #deliver(inv: Invocation, res: ServerResponse): void {
    this.#phase = 'running';
    inv.deliveredAt = performance.now();
    writeNextEvent(res, {
      requestId: inv.requestId,
      deadlineMs: inv.deadlineMs,
      functionArn: this.#options.config.functionArn,
      ...inv.input,
    });
  }

  /** `GET /next` (RuntimeApiHandler). */
  next(res: ServerResponse): void {
    // A second /next while one waits is refused, never put in its place: displacing the first would
    // hand the next event to whoever asked last (docs/security.md#instances-and-the-runtime-api).
    // A waiter whose connection is gone no longer counts (its 'close' may not have run yet).
    const waiting = this.#nextWaiter;
    if (waiting && !waiting.destroyed && !waiting.socket?.destroyed) {
      const body = runtimeApiError(
        'InvalidStateTransition',
        'State transition from Ready to Ready failed for runtime. Error: a /next request is already waiting for the next event',
      );
      res.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (this.#phase === 'started') this.#initDoneAt ??= performance.now();
    this.#phase = 'ready';
    const inv = this.#current;
    if (inv && inv.deliveredAt === undefined && !inv.outcome) {
      this.#deliver(inv, res);
      return;
    }
    this.#nextWaiter = res;
    res.once('close', () => {
      if (this.#nextWaiter === res) this.#nextWaiter = undefined;
    });
  }

  /** `POST /invocation/{id}/response|error` (RuntimeApiHandler). */
  invocationPost(requestId: string, what: 'response' | 'error', mode: string | undefined): PostAdmission {
    const inv = this.#current;
    if (this.#phase === 'started') return { refuse: invalidTransition(what) };
    if (!inv || inv.requestId !== requestId || this.#phase !== 'running' || inv.outcome) {
      return { refuse: { status: 400, body: runtimeApiError('InvalidRequestID', 'Invalid request ID') } };
    }
    if (what === 'response' && mode !== undefined && mode !== 'streaming') {
      this.#phase = 'responded';
      const errorType = 'Runtime.InvalidResponseModeHeader';
      inv.settle({
        kind: 'error',
        errorType,
        body: Buffer.from(
          JSON.stringify({ errorType, errorMessage: `Invalid response mode header: "${mode}"` }),
        ),
      });
      return {
        refuse: {
          status: 400,
          body: runtimeApiError('InvalidFunctionResponseMode', 'Invalid function response mode'),
        },
      };
    }
    // Claimed now: a second post for the same id is a 400, as in RIE.
    this.#phase = 'responded';
    return {
      accept: (post) => {
        if (what === 'error') {
          inv.settle({ kind: 'error', body: post.body, errorType: post.errorType });
          return ACCEPTED;
        }
        if (post.size > MAX_PAYLOAD_BYTES) {
          inv.settle({ kind: 'responseTooLarge', size: post.size });
          return {
            status: 413,
            body: runtimeApiError(
              'RequestEntityTooLarge',
              `Exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`,
            ),
          };
        }
        inv.settle({
          kind: 'response',
          body: post.body,
          ...(post.streamError ? { streamError: post.streamError } : {}),
        });
        return ACCEPTED;
      },
    };
  }

  /** The runtime's process group: it is spawned detached, so its pid (RuntimeApiHandler). */
  runtimeGroup(): number | undefined {
    return this.#proc?.pid;
  }

  /** `POST /init/error` (RuntimeApiHandler). */
  initErrorPost(): PostAdmission {
    if (this.#phase !== 'started') return { refuse: invalidTransition('init error') };
    return {
      accept: (post) => {
        this.#initDoneAt ??= performance.now();
        this.#initError = { body: post.body, errorType: post.errorType };
        // Official clients exit after posting; one that lingers is killed so the invoke can finish.
        const proc = this.#proc;
        setTimeout(() => proc?.kill(), INIT_ERROR_GRACE_MS).unref();
        return ACCEPTED;
      },
    };
  }
}
