/**
 * One function sandbox: the state machine of the Lambda Runtime API (docs/lambda-apis.md#runtime-api) and
 * the runtime process behind it, driven one invocation at a time. The HTTP side of the Runtime API is
 * runtime-api-server.ts; the invoke side (invoke-server.ts) decides how an outcome is rendered; this module
 * decides what the outcome is.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { type FunctionConfig, runtimeEnvironment } from './config.ts';
import { InspectorProxy } from './inspector-proxy.ts';
import { MemoryWatch } from './memory-watch.ts';
import { PausableTimer } from './pausable-timer.ts';
import {
  INIT_TIMEOUT_MS,
  MAX_PAYLOAD_BYTES,
  runtimeApiError,
  STREAMED_RESPONSE_LIMIT_BYTES,
} from './protocol.ts';
import {
  type InitializationType,
  type InvocationStatus,
  PlatformLog,
  runtimeVersionOf,
} from './report-lines.ts';
import {
  ACCEPTED,
  invalidTransition,
  type PostAdmission,
  type RuntimeApiAnswer,
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
  /**
   * `/response` was posted. `streamError` holds the error trailers of a stream that failed midway;
   * `streamed`: the body went to `InvokeInput.stream` as it came, so `body` is empty.
   */
  | { kind: 'response'; body: Buffer; streamError?: { errorType: string; body: Buffer }; streamed?: boolean }
  /** `/error` was posted (or the platform decided the invoke failed, e.g. a bad response mode). */
  | { kind: 'error'; body: Buffer; errorType: string }
  /** `/response` exceeded `limit` (6 291 556 bytes, streamed: 20 MiB); the runtime got a 413. */
  | { kind: 'responseTooLarge'; size: number; limit: number }
  | { kind: 'timeout'; timeoutSeconds: number }
  /** The runtime ended before answering; `outOfMemory` when it went over the memory limit. */
  | { kind: 'exit'; reason: ExitReason; outOfMemory?: boolean }
  /** The runtime posted `/init/error` (and then ended). */
  | { kind: 'initError'; body: Buffer; errorType: string };

export interface InvokeInput {
  event: Buffer;
  /** Decoded `X-Amz-Client-Context` bytes (JSON text), forwarded as `Lambda-Runtime-Client-Context`. */
  clientContext?: Buffer;
  traceId?: string;
  tenantId?: string;
  /** The invoked ARN when the caller named a qualifier (`…:function:name:live`). */
  functionArn?: string;
  /** The request id to use instead of a new one. */
  requestId?: string;
  /**
   * Where a streamed `/response` goes as it arrives (the streaming invoke route). Without it a
   * streamed response is collected, as classic RIE does.
   */
  stream?: ResponseSink;
}

/** The caller's side of a streamed response (see StreamRelay in runtime-api-server.ts). */
export interface ResponseSink {
  begin(contentType: string, requestId: string): void;
  /** Resolves once the caller takes more, or false once it is gone. */
  write(chunk: Buffer): Promise<boolean>;
}

export interface InvokeResult {
  requestId: string;
  outcome: Outcome;
  durationMs: number;
  /** Set on a cold start (also a runtime restarted after it ended while idle). */
  initDurationMs?: number;
  /** Peak resident size of the runtime in MB, when it could be measured. */
  maxMemoryUsedMb?: number;
}

interface Invocation {
  requestId: string;
  input: InvokeInput;
  /** Set when the function timeout starts: at delivery on a cold start, at once on a warm one. */
  deadlineMs?: number;
  /** The init-limit timer, then the function-timeout timer; held while a debugger is attached. */
  timer?: PausableTimer;
  reservedAt: number;
  deliveredAt?: number;
  /** START (or `platform.start`) is written: when the event is delivered, or at the end at the latest. */
  started?: boolean;
  /** The process started for this invocation (a cold start), if any. */
  spawned?: RuntimeProcess;
  /** When that process was started (or, started ahead, given its function): the init clock's zero. */
  spawnedAt?: number;
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
  /**
   * A runtime started ahead of its function (`assignable`, in `taskRoot`, with an environment that
   * agrees with this sandbox's on everything read at process start): the first cold start gives it
   * the runtime environment (`{ env }` on its stdin) instead of spawning a process. Restarts spawn.
   */
  prestarted?: RuntimeProcess;
  /** Told of every runtime process this sandbox uses, when it starts and when it is gone. */
  onRuntimeStart?: (pid: number) => void;
  onRuntimeExit?: (pid: number) => void;
}

/** How long a runtime may linger after posting `/init/error` before its group is killed. */
const INIT_ERROR_GRACE_MS = 2_000;

/** Node's line when the runtime's inspector listens (on the port the system picked). */
const RUNTIME_INSPECTOR_LINE = /Debugger listening on ws:\/\/127\.0\.0\.1:(\d+)\/([\w-]+)/;

/** Exits that a V8 heap-limit crash produces (Node aborts after "JavaScript heap out of memory"). */
const ABORT_REASONS = new Set(['signal: aborted', 'signal: trap', 'exit status 134']);

export class Sandbox implements RuntimeApiHandler {
  readonly #options: SandboxOptions;
  readonly #server: RuntimeApiServer;
  readonly #stdout: Writable;
  readonly #log: PlatformLog;
  /** Whether the current process's init end was logged (JSON `platform.initReport`). */
  #initLogged = false;
  /** When the current process was given its function (its init began). */
  #spawnedAt = 0;
  /** How the current process's init came about (`AWS_LAMBDA_INITIALIZATION_TYPE`). */
  #initializationType: InitializationType = 'on-demand';
  readonly #stderr: Writable;
  /** In front of the runtime's inspector when the function is debugged (`config.inspect`). */
  readonly #inspector: InspectorProxy | undefined;
  #inspectorAddress = '';
  /** A debugger session is open through the proxy: the clocks are held. */
  #debuggerAttached = false;
  /** The runtime waits for its first debugger (`--inspect-wait`): the clocks are held until then. */
  #awaitingDebugger = false;
  #runtimeApi = '';
  #proc: RuntimeProcess | undefined;
  /** The memory watch of the newest runtime (kept after it ends, for its REPORT). */
  #watch: MemoryWatch | undefined;
  #frozen = false;
  #phase: Phase = 'started';
  #initDoneAt: number | undefined;
  #initError: { body: Buffer; errorType: string } | undefined;
  #nextWaiter: ServerResponse | undefined;
  #current: Invocation | undefined;
  #closed = false;
  #prestarted: RuntimeProcess | undefined;
  /** Set while an init run ahead (`initAhead`) waits for the runtime's first `/next`. */
  #aheadReady: (() => void) | undefined;
  /** The current process's init was run ahead of any invoke (provisioned concurrency). */
  #initAheadRun = false;

  constructor(options: SandboxOptions) {
    this.#options = options;
    this.#prestarted = options.prestarted;
    this.#stdout = options.output?.stdout ?? process.stdout;
    this.#log = new PlatformLog(options.config.logging);
    this.#stderr = options.output?.stderr ?? process.stderr;
    this.#server = new RuntimeApiServer(this);
    this.#inspector = options.config.inspect
      ? new InspectorProxy((attached) => this.#onDebugger(attached))
      : undefined;
  }

  /** Starts the Runtime API on 127.0.0.1 (and the inspector proxy) and resolves with its port. */
  async listen(): Promise<number> {
    const port = await this.#server.listen(this.#options.runtimeApiPort);
    this.#runtimeApi = `127.0.0.1:${port}`;
    const inspect = this.#options.config.inspect;
    if (this.#inspector && inspect) {
      const inspectorPort = await this.#inspector.listen(inspect.host, inspect.port);
      this.#inspectorAddress = `${inspect.host}:${inspectorPort}`;
    }
    return port;
  }

  /** `host:port` of the inspector proxy, when the function is debugged. */
  get inspectorAddress(): string | undefined {
    return this.#inspectorAddress || undefined;
  }

  get busy(): boolean {
    return this.#current !== undefined;
  }

  /**
   * Runs the init now, with no invoke, as Lambda does for provisioned concurrency
   * (docs/emulator.md#init-ahead): starts the runtime and resolves once it asks for its first event,
   * or once its init failed or ran past the init limit. The first invoke then finds a warm runtime:
   * no Init Duration in its REPORT, and the init's output is not its own. A failed or timed-out init
   * leaves no runtime: the first invoke runs the init again, on demand, as Lambda retries it.
   * Does nothing once a runtime runs or an invoke is in flight, or for a debugged function (its
   * init waits for the debugger, on the first invoke).
   */
  async initAhead(): Promise<void> {
    if (this.#proc || this.#current || this.#closed || this.#inspector) return;
    this.#initAheadRun = true;
    const proc = this.#spawn();
    this.#initAheadRun = false;
    // The memory limit holds for the init too, as in an invoke's cold start.
    const watch = this.#watch;
    watch?.start();
    let timer: PausableTimer | undefined;
    await new Promise<void>((resolve) => {
      this.#aheadReady = resolve;
      void proc.exited.then(() => resolve());
      timer = new PausableTimer(INIT_TIMEOUT_MS, () => {
        if (this.#proc === proc && this.#phase === 'started') {
          this.#logInitDone('timeout', 'Runtime.InitTimeout');
          this.#discardProcess();
        }
        resolve();
      });
    });
    timer?.clear();
    watch?.stop();
    this.#aheadReady = undefined;
  }

  /** Runs one invocation; the caller guarantees there is no other in flight (`busy`). */
  async invoke(input: InvokeInput): Promise<InvokeResult> {
    if (this.#current) throw new Error('Sandbox.invoke called while another invocation is in flight');
    if (this.#closed) throw new Error('Sandbox is closed');
    const { config } = this.#options;
    const requestId = input.requestId ?? randomUUID();
    let settle: (outcome: Outcome) => void = () => {};
    const settled = new Promise<Outcome>((resolve) => {
      settle = resolve;
    });
    const inv: Invocation = {
      requestId,
      input,
      reservedAt: performance.now(),
      settle: (outcome) => {
        if (inv.outcome) return;
        inv.outcome = outcome;
        settle(outcome);
      },
    };
    this.#current = inv;
    // As on Lambda: INIT_START, the init's output, then START once the event is delivered
    // (docs/lambda-apis.md#platform-log-lines). The pool's capture begins at either.
    if (this.#proc) this.#startFunctionClock(inv);
    else this.#coldStart(inv);
    if (this.#nextWaiter) this.#deliver(inv, this.#takeWaiter());
    this.#watch?.start();

    const outcome = await settled;
    inv.timer?.clear();
    const watch = this.#watch;
    if (this.#proc) watch?.sample();
    watch?.stop();
    const now = performance.now();
    const durationMs = now - (inv.deliveredAt ?? inv.reservedAt);
    const initDurationMs =
      inv.spawnedAt !== undefined ? (this.#initDoneAt ?? now) - inv.spawnedAt : undefined;
    const maxMemoryUsedMb = watch?.peakMb;
    // Piped output is read by this process's event loop like the Runtime API's requests: the
    // runtime's last lines (written before it posted its answer) may be read in the same turn as
    // the answer, after it. One turn later they are in, and END/REPORT come after them.
    if (this.#options.output) await new Promise<void>((resolve) => setImmediate(resolve));
    this.#writeStart(inv);
    const { status, errorType } = statusOf(outcome);
    // Lambda reports a timed-out invoke as lasting exactly the timeout.
    const reportedMs = outcome.kind === 'timeout' ? outcome.timeoutSeconds * 1000 : durationMs;
    this.#stdout.write(
      this.#log.end(requestId, { status, durationMs: reportedMs, ...(errorType ? { errorType } : {}) }) +
        this.#log.report({
          requestId,
          durationMs: reportedMs,
          memorySizeMb: config.memorySizeMb,
          maxMemoryUsedMb: maxMemoryUsedMb ?? config.memorySizeMb,
          status,
          ...(initDurationMs === undefined ? {} : { initDurationMs }),
          ...(errorType ? { errorType } : {}),
        }),
    );
    this.#current = undefined;
    return {
      requestId,
      outcome,
      durationMs,
      ...(initDurationMs === undefined ? {} : { initDurationMs }),
      ...(maxMemoryUsedMb === undefined ? {} : { maxMemoryUsedMb }),
    };
  }

  #writeStart(inv: Invocation): void {
    if (inv.started) return;
    inv.started = true;
    this.#stdout.write(this.#log.start(inv.requestId, this.#options.config.functionVersion));
  }

  /** JSON `platform.initRuntimeDone`/`initReport` for the current process, once. */
  #logInitDone(status: InvocationStatus, errorType?: string): void {
    if (this.#initLogged) return;
    this.#initLogged = true;
    const text = this.#log.initDone(
      performance.now() - this.#spawnedAt,
      status,
      errorType,
      this.#initializationType,
    );
    if (text) this.#stdout.write(text);
  }

  #coldStart(inv: Invocation): void {
    inv.spawned = this.#spawn();
    inv.spawnedAt = performance.now();
    this.#startInitClock(inv);
  }

  /** Cold start: the init phase has its own limit; past it, the function timeout starts. */
  #startInitClock(inv: Invocation): void {
    inv.timer?.clear();
    inv.deadlineMs = undefined;
    inv.timer = new PausableTimer(INIT_TIMEOUT_MS, () => this.#startFunctionClock(inv), this.#clocksHeld());
  }

  /**
   * The function timeout. The deadline the runtime is given (`Lambda-Runtime-Deadline-Ms`) is fixed
   * at its start; the timer itself does not count while a debugger is attached (docs/debugging.md).
   */
  #startFunctionClock(inv: Invocation): void {
    if (inv.deadlineMs !== undefined) return;
    inv.timer?.clear();
    const { timeoutSeconds } = this.#options.config;
    inv.deadlineMs = Date.now() + timeoutSeconds * 1000;
    inv.timer = new PausableTimer(
      timeoutSeconds * 1000,
      () => {
        inv.settle({ kind: 'timeout', timeoutSeconds });
        this.#discardProcess();
      },
      this.#clocksHeld(),
    );
  }

  #clocksHeld(): boolean {
    return this.#debuggerAttached || this.#awaitingDebugger;
  }

  /** The proxy saw the first debugger session open, or the last one close. */
  #onDebugger(attached: boolean): void {
    this.#debuggerAttached = attached;
    if (attached) this.#awaitingDebugger = false;
    this.#stderr.write(
      `lambda-testkit-emulator: debugger ${attached ? 'attached, the function timeout is held' : 'detached, the function timeout counts on'}\n`,
    );
    const timer = this.#current?.timer;
    if (this.#clocksHeld()) timer?.hold();
    else timer?.resume();
  }

  /** Node's line on the runtime's stderr: the proxy's target, and the address announced for it. */
  #onRuntimeStderr(proc: RuntimeProcess, chunk: Buffer, seen: { line: boolean }): void {
    if (seen.line || this.#proc !== proc || !this.#inspector) return;
    const match = RUNTIME_INSPECTOR_LINE.exec(chunk.toString('latin1'));
    if (!match) return;
    seen.line = true;
    this.#inspector.target = Number(match[1]);
    this.#stderr.write(
      `lambda-testkit-emulator: debugger on ws://${this.#inspectorAddress}/${match[2]} (runtime pid ${proc.pid})\n`,
    );
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
    this.#prestarted?.kill();
    const unused = this.#prestarted;
    this.#prestarted = undefined;
    this.#watch?.stop();
    this.#current?.settle({ kind: 'exit', reason: 'signal: killed' });
    await Promise.all([this.#server.close(), this.#inspector?.close()]);
    await Promise.all([proc?.exited, unused?.exited]);
  }

  #spawn(): RuntimeProcess {
    const { env, config, handler, command, output } = this.#options;
    const version = runtimeVersionOf(config.runtimeId, config.region);
    this.#initializationType = this.#initAheadRun ? 'provisioned-concurrency' : 'on-demand';
    const initStart = this.#log.initStart({
      functionName: config.functionName,
      functionVersion: config.functionVersion,
      ...version,
      initializationType: this.#initializationType,
    });
    if (initStart) this.#stdout.write(initStart);
    this.#initLogged = false;
    this.#spawnedAt = performance.now();
    const runtimeEnv = runtimeEnvironment(env, config, handler, this.#runtimeApi);
    // As Lambda tells the function how its environment was initialized.
    if (this.#initAheadRun) runtimeEnv.AWS_LAMBDA_INITIALIZATION_TYPE = 'provisioned-concurrency';
    // Only the runtime's own line counts, not those of Node processes it starts (they inherit NODE_OPTIONS).
    const seen = { line: false };
    if (this.#inspector) this.#inspector.target = undefined;
    this.#awaitingDebugger = config.inspect?.wait ?? false;
    const prestarted = this.#prestarted;
    this.#prestarted = undefined;
    let proc: RuntimeProcess;
    // A debugged runtime starts its inspector as it starts: never one started ahead.
    if (prestarted?.alive && !this.#inspector) {
      // Its environment is replaced wholesale by this one before the handler loads: a function
      // sees exactly what a process spawned now would see (backends/process/runtime-entry.ts).
      proc = prestarted;
      proc.assign({ env: runtimeEnv });
    } else {
      prestarted?.kill();
      // A launcher enters the task root itself (its path exists only in the namespace it makes).
      const cwd = config.runtimeWrapper ? process.cwd() : config.taskRoot;
      proc = new RuntimeProcess(command, runtimeEnv, cwd, output, {
        ...(config.runtimeUser ? { user: config.runtimeUser } : {}),
        ...(this.#inspector
          ? { tapStderr: (chunk: Buffer) => this.#onRuntimeStderr(proc, chunk, seen) }
          : {}),
      });
    }
    const started = proc.pid;
    if (started !== undefined) {
      this.#options.onRuntimeStart?.(started);
      void proc.exited.then(() => this.#options.onRuntimeExit?.(started));
    }
    this.#proc = proc;
    this.#frozen = false;
    // The previous runtime's watch (a restart within one invocation) must not sample on.
    this.#watch?.stop();
    const pid = proc.pid;
    const watch =
      pid === undefined ? undefined : new MemoryWatch(pid, config.memorySizeMb, () => proc.kill());
    this.#watch = watch;
    this.#phase = 'started';
    this.#initDoneAt = undefined;
    this.#initError = undefined;
    void proc.exited.then((reason) => {
      this.#onExit(proc, reason);
      // After #onExit, which may still ask it about the exit: its status file is let go.
      watch?.close();
    });
    return proc;
  }

  /** Forgets the current process (killed on timeout or close); its late exit event is ignored. */
  #discardProcess(): void {
    const proc = this.#proc;
    if (!proc) return;
    this.#proc = undefined;
    if (this.#inspector) this.#inspector.target = undefined;
    proc.kill();
    this.#nextWaiter?.destroy();
    this.#nextWaiter = undefined;
  }

  #onExit(proc: RuntimeProcess, reason: ExitReason): void {
    if (this.#proc !== proc) return;
    const wasWarm = this.#phase !== 'started';
    if (!wasWarm) this.#logInitDone('error', this.#initError?.errorType ?? 'Runtime.ExitError');
    this.#proc = undefined;
    if (this.#inspector) this.#inspector.target = undefined;
    this.#initDoneAt ??= performance.now();
    this.#nextWaiter?.destroy();
    this.#nextWaiter = undefined;
    const inv = this.#current;
    if (!inv || inv.outcome) return;
    // A warm runtime that ends before taking the event (it answered the previous invoke, then exited,
    // e.g. after an uncaught exception) did not fail this invocation: it gets a fresh runtime, once.
    // Its REPORT then has an Init Duration, and the pool reports the call as a cold start: a restart
    // is never hidden (with the freeze on, an idle runtime cannot end this way on its own).
    if (wasWarm && inv.deliveredAt === undefined && !inv.spawned && !this.#closed) {
      this.#coldStart(inv);
      this.#watch?.start();
      return;
    }
    const initError = this.#initError;
    if (initError) {
      inv.settle({ kind: 'initError', ...initError });
      return;
    }
    const watch = this.#watch;
    const outOfMemory =
      watch !== undefined &&
      (watch.outOfMemory || (reason !== undefined && ABORT_REASONS.has(reason) && watch.nearLimit()));
    inv.settle({ kind: 'exit', reason, ...(outOfMemory ? { outOfMemory } : {}) });
  }

  #takeWaiter(): ServerResponse {
    const waiter = this.#nextWaiter!;
    this.#nextWaiter = undefined;
    return waiter;
  }

  #deliver(inv: Invocation, res: ServerResponse): void {
    this.#phase = 'running';
    inv.deliveredAt = performance.now();
    this.#writeStart(inv);
    this.#startFunctionClock(inv);
    if (this.#frozen) {
      // Thawed right before the event is written: what was left running in the previous invocation
      // resumes now, in this one, as on Lambda.
      this.#frozen = false;
      this.#proc?.thaw();
    }
    writeNextEvent(res, {
      requestId: inv.requestId,
      deadlineMs: inv.deadlineMs ?? Date.now(),
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
    if (this.#phase === 'started') {
      this.#initDoneAt ??= performance.now();
      if (this.#proc) this.#logInitDone('success');
    }
    this.#phase = 'ready';
    this.#aheadReady?.();
    const inv = this.#current;
    if (inv && inv.deliveredAt === undefined && !inv.outcome) {
      this.#deliver(inv, res);
      return;
    }
    this.#nextWaiter = res;
    res.once('close', () => {
      if (this.#nextWaiter === res) this.#nextWaiter = undefined;
    });
    // Between invocations the environment is frozen (docs/emulator.md#freeze).
    if (this.#options.config.freeze && this.#proc && !this.#frozen) {
      this.#frozen = true;
      this.#proc.freeze();
    }
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
    const sink = inv.input.stream;
    if (what === 'response' && mode === 'streaming' && sink) {
      return {
        relay: {
          begin: (contentType) => sink.begin(contentType, inv.requestId),
          // Once the invocation is settled (timeout, over the limit) nothing more reaches the caller.
          write: (chunk) => (inv.outcome ? Promise.resolve(false) : sink.write(chunk)),
          limit: STREAMED_RESPONSE_LIMIT_BYTES,
          overLimit: (size) =>
            inv.settle({ kind: 'responseTooLarge', size, limit: STREAMED_RESPONSE_LIMIT_BYTES }),
          end: (post) => {
            if (post.size > STREAMED_RESPONSE_LIMIT_BYTES) return tooLarge(STREAMED_RESPONSE_LIMIT_BYTES);
            inv.settle({
              kind: 'response',
              body: Buffer.alloc(0),
              streamed: true,
              ...(post.streamError ? { streamError: post.streamError } : {}),
            });
            return ACCEPTED;
          },
        },
      };
    }
    return {
      accept: (post) => {
        if (what === 'error') {
          inv.settle({ kind: 'error', body: post.body, errorType: post.errorType });
          return ACCEPTED;
        }
        if (post.size > MAX_PAYLOAD_BYTES) {
          inv.settle({ kind: 'responseTooLarge', size: post.size, limit: MAX_PAYLOAD_BYTES });
          return tooLarge(MAX_PAYLOAD_BYTES);
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

  /** The uid of LAMBDA_TESTKIT_RUNTIME_USER, when the runtime runs as that user (RuntimeApiHandler). */
  runtimeUid(): number | undefined {
    return this.#options.config.runtimeUser?.uid;
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

/**
 * The status an outcome gets in the platform's records: a function error (`/error`, a response
 * over the limit) is `failure`, which Text's REPORT does not show; a timeout and a platform error
 * (the runtime ended, init failed) are shown (docs/lambda-apis.md#platform-log-lines).
 */
function statusOf(outcome: Outcome): { status: InvocationStatus; errorType?: string } {
  switch (outcome.kind) {
    case 'response':
      return { status: 'success' };
    case 'error':
    case 'responseTooLarge':
      return { status: 'failure' };
    case 'timeout':
      return { status: 'timeout' };
    case 'exit':
      return {
        status: 'error',
        errorType: outcome.outOfMemory ? 'Runtime.OutOfMemory' : 'Runtime.ExitError',
      };
    case 'initError':
      return { status: 'error', errorType: outcome.errorType };
  }
}

/** The runtime's answer to a `/response` over the limit (docs/lambda-apis.md#posting-results). */
function tooLarge(limit: number): RuntimeApiAnswer {
  return {
    status: 413,
    body: runtimeApiError('RequestEntityTooLarge', `Exceeded maximum allowed payload size (${limit} bytes).`),
  };
}
