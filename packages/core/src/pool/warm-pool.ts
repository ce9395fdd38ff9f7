/**
 * The warm pool: instances per function, each tagged with the deploy id it was launched with,
 * behind the small `LambdaBackend` interface (docs/architecture.md#one-run-end-to-end).
 *
 * Invariants:
 * - one in-flight invocation per instance, always: an instance is handed to exactly one call at a
 *   time (the AWS RIE crashes on overlapping requests, aws-lambda-runtime-interface-emulator#97);
 * - at most `maxConcurrency` calls of a function run at once (a FIFO p-queue per function), and each
 *   running call holds at most one instance, so a function never has more than `maxConcurrency`
 *   instances and a launch only happens when every existing instance is busy: the queue's
 *   synchronous admission is the per-function startup lock;
 * - by default a call that finds every instance busy launches one at once (Lambda scales out so);
 *   with `scaleOutWaitMs` it first waits that long for one of them (or one being launched) to be
 *   handed over by the call that ends, and launches only if none is;
 * - at most `maxConcurrentLaunches` launches run at once over all functions (a second p-queue);
 * - an instance is retired (terminated) on a deploy-id change (after its in-flight call), on
 *   `evict`, on idle TTL, on a transport failure, and after a timeout, runtime exit or init error:
 *   RIE would respawn the runtime in the same sandbox, but real Lambda resets the execution
 *   environment after these (docs/lambda-apis.md#rie-versus-lambda), and a
 *   fresh instance is the one reset every backend implements the same way. The next call is then a
 *   cold start, as it is on Lambda.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { finished } from 'node:stream/promises';
import PQueue from 'p-queue';
import type { LambdaBackend } from '../backend.ts';
import { invokeTimeoutSeconds } from '../debug.ts';
import { INIT_TIMEOUT_MS } from '../emulator/protocol.ts';
import { ConfigError, ErrorCodes } from '../errors.ts';
import type { ResolvedFunction } from '../function-spec.ts';
import type { InstanceLogs, InvocationLogs } from '../instance-logs.ts';
import type {
  InvocationKind,
  InvocationOutcome,
  InvokeOptions,
  StreamedInvocation,
  StreamedOutcome,
} from '../invocation.ts';
import { classifyAnswer } from './classify.ts';
import { DurationSamples } from './duration-summary.ts';
import { InstanceClient } from './invoke-client.ts';
import {
  callDeadlock,
  launchFailed,
  poolStopped,
  protocolError,
  throttled,
  transportError,
  unknownFunction,
} from './pool-errors.ts';
import type {
  FunctionCounters,
  FunctionStats,
  InstanceInfo,
  InstanceState,
  LaunchEvent,
  PoolLogger,
  WarmPoolOptions,
} from './pool-types.ts';
import { addWhileWaiting } from './queue-while-waiting.ts';
import { readStreamTrailers } from './stream-outcome.ts';
import { traceHeaderFor } from './trace-id.ts';

interface Instance {
  id: string;
  functionName: string;
  deployId: string;
  /** The function's eviction generation at launch; `evict` bumps it. */
  generation: number;
  endpoint: string;
  handle: unknown;
  client: InstanceClient;
  logs: InstanceLogs | undefined;
  state: InstanceState;
  invocations: number;
  startedAt: number;
  lastUsedAt?: number;
  idleTimer?: ReturnType<typeof setTimeout>;
  terminated: boolean;
  /** Its endpoint answered 404 to the streaming route (AWS's RIE): streamed calls run buffered. */
  buffersStreams?: boolean;
}

/** A prepared instance: created by the backend ahead of need, not started (`spareInstances`). */
interface Spare {
  id: string;
  deployId: string;
  generation: number;
  /** The backend's handle once prepared; undefined when the preparation failed or the spare was dropped. */
  prepared: Promise<unknown>;
  /** Set once prepared: only a ready spare is taken (one still waiting in the launch queue is not). */
  handle?: unknown;
  /** Dropped (stale, or the pool stopped): its instance is terminated once prepared. */
  dropped: boolean;
}

interface FunctionSlot {
  fn: ResolvedFunction;
  /** Prepared instances waiting to be started by a scale-out, oldest first. */
  spares: Spare[];
  generation: number;
  /** Unregistered: calls already admitted finish, then its instances are terminated. */
  removed?: boolean;
  /** Calls of this function: `maxConcurrency` at once, the rest wait FIFO. */
  queue: PQueue;
  /** Calls admitted by `invoke` and not settled yet (waiting or running): what throttling counts. */
  admitted: number;
  instances: Set<Instance>;
  /** Launches under way for calls of this function (each instance-to-be frees up after its call). */
  launching: number;
  /** Calls waiting for a busy instance (`scaleOutWaitMs`), oldest first: #release hands instances over. */
  waiters: ((instance: Instance | undefined) => void)[];
  /** Calls the queue admitted and that have not ended (each holds one of `maxConcurrency` places). */
  running: Set<CallRecord>;
  counters: FunctionCounters;
  durations: DurationSamples;
  launchDurations: DurationSamples;
}

interface Lease {
  instance: Instance;
  cold: boolean;
}

/** One admitted call, linked to the call whose handler made it (synchronous calls from functions). */
interface CallRecord {
  functionName: string;
  parent: CallRecord | undefined;
}

/** Kinds after which the instance is replaced (see the module comment). */
const RESETTING_KINDS: ReadonlySet<InvocationKind> = new Set(['timeout', 'exit', 'init']);

/** `Promise.withResolvers`, which the project's ES target does not type yet. */
function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function nonNegative(name: string, value: number): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `Expected WarmPool option "${name}" to be a number of milliseconds of at least 0, got ${JSON.stringify(value)}.`,
      { details: { option: name } },
    );
  }
  return value;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `Expected WarmPool option "${name}" to be a whole number of at least 1, got ${JSON.stringify(value)}.`,
      { details: { option: name } },
    );
  }
  return value;
}

export class WarmPool implements AsyncDisposable {
  readonly runId: string;
  readonly region: string;
  readonly accountId: string;
  #backend: LambdaBackend;
  #maxConcurrency: number;
  #scaleOutWaitMs: number;
  #spareInstances: number;
  #idleTtlMs: number;
  #marginMs: number;
  #logWaitMs: number;
  #onLaunch: ((event: LaunchEvent) => void) | undefined;
  #launchEnvironment: WarmPoolOptions['launchEnvironment'];
  /** The call each busy instance serves, by instance id: how a function's call finds its caller. */
  #serving = new Map<string, CallRecord>();
  #logger: PoolLogger | undefined;
  #slots = new Map<string, FunctionSlot>();
  /** Unregistered slots that may still hold instances (busy ones, launches of admitted calls). */
  #removed = new Set<FunctionSlot>();
  #launchQueue: PQueue;
  #stop = new AbortController();
  #stopping: Promise<void> | undefined;
  #pendingLaunches = new Set<Promise<unknown>>();
  #terminations = new Set<Promise<void>>();

  constructor(options: WarmPoolOptions) {
    this.#backend = options.backend;
    this.#maxConcurrency = positiveInteger('maxConcurrency', options.maxConcurrency ?? 10);
    this.#spareInstances = options.spareInstances ?? 0;
    if (!Number.isInteger(this.#spareInstances) || this.#spareInstances < 0) {
      throw new ConfigError(
        ErrorCodes.CONFIG_INVALID,
        `Expected WarmPool option "spareInstances" to be a whole number of at least 0, got ${JSON.stringify(options.spareInstances)}.`,
        { details: { option: 'spareInstances' } },
      );
    }
    this.#launchQueue = new PQueue({
      concurrency: positiveInteger('maxConcurrentLaunches', options.maxConcurrentLaunches ?? 4),
    });
    this.#scaleOutWaitMs = nonNegative('scaleOutWaitMs', options.scaleOutWaitMs ?? 0);
    this.#idleTtlMs = options.idleTtlMs ?? 600_000;
    if (!(this.#idleTtlMs > 0)) {
      throw new ConfigError(
        ErrorCodes.CONFIG_INVALID,
        `Expected WarmPool option "idleTtlMs" to be a positive number of milliseconds (or Infinity), got ${this.#idleTtlMs}.`,
      );
    }
    this.#marginMs = options.invokeTimeoutMarginMs ?? 5000;
    this.#logWaitMs = options.logWaitMs ?? 1000;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.runId = options.runId ?? randomUUID();
    this.#onLaunch = options.onLaunch;
    this.#launchEnvironment = options.launchEnvironment;
    this.#logger = options.logger;
  }

  /** Adds a function, or replaces it; a new deploy id retires the old instances once idle. */
  register(fn: ResolvedFunction): void {
    this.#assertRunning(fn.name);
    const slot = this.#slots.get(fn.name);
    if (!slot) {
      this.#slots.set(fn.name, {
        fn,
        generation: 0,
        queue: new PQueue({ concurrency: this.#concurrencyOf(fn) }),
        admitted: 0,
        spares: [],
        instances: new Set(),
        launching: 0,
        waiters: [],
        running: new Set(),
        counters: {
          coldStarts: 0,
          warmHits: 0,
          queueWaits: 0,
          launches: 0,
          launchFailures: 0,
          invocations: 0,
          errors: 0,
          retries: 0,
          instancesLost: 0,
          throttles: 0,
        },
        durations: new DurationSamples(),
        launchDurations: new DurationSamples(),
      });
      return;
    }
    const changed = slot.fn.deployId !== fn.deployId;
    slot.fn = fn;
    slot.queue.concurrency = this.#concurrencyOf(fn);
    if (changed) {
      this.#logger?.debug?.(
        `lambda-testkit: "${fn.name}" has a new deploy id ${fn.deployId}; retiring old instances`,
      );
      this.#retireAll(slot);
      this.#dropSpares(slot);
    }
  }

  /**
   * Removes a function (dropped from the configuration on a config restart or a watch rerun): new
   * calls get UNKNOWN_FUNCTION, idle instances are terminated now, busy ones after their call; calls
   * already waiting still run. Resolves with how many instances it had, once the idle ones are gone;
   * 0 for a name that is not registered.
   */
  async unregister(name: string): Promise<number> {
    const slot = this.#slots.get(name);
    if (!slot) return 0;
    this.#slots.delete(name);
    slot.removed = true;
    this.#removed.add(slot);
    this.#dropSpares(slot);
    const count = slot.instances.size;
    await Promise.all(this.#retireAll(slot));
    return count;
  }

  has(name: string): boolean {
    return this.#slots.has(name);
  }

  functionNames(): string[] {
    return [...this.#slots.keys()];
  }

  getFunction(name: string): ResolvedFunction | undefined {
    return this.#slots.get(name)?.fn;
  }

  /**
   * Invokes `name` with `payload` on a free warm instance, or on one launched for this call.
   * Function errors are outcomes (`kind`), not rejections; rejections are testkit errors:
   * UNKNOWN_FUNCTION, LAUNCH_FAILED, INSTANCE_LOST, INVOKE_TIMEOUT, PROTOCOL_ERROR, POOL_STOPPED,
   * and CALL_DEADLOCK for a call from a function (`callerInstanceId`) that waits on its own chain.
   */
  async invoke(name: string, payload: Uint8Array, options: InvokeOptions = {}): Promise<InvocationOutcome> {
    const slot = this.#slot(name);
    this.#assertRunning(name);
    const reserved = slot.fn.reservedConcurrency;
    if (
      reserved !== undefined &&
      (reserved === 0 || (options.throttle !== false && slot.admitted >= reserved))
    ) {
      slot.counters.throttles++;
      throw throttled(name, reserved);
    }
    const parent = options.callerInstanceId ? this.#serving.get(options.callerInstanceId) : undefined;
    const call: CallRecord = { functionName: name, parent };
    if (parent && options.callerInstanceId) this.#refuseSelfWait(slot, call, options.callerInstanceId);
    const enqueuedAt = performance.now();
    if (slot.queue.pending >= slot.queue.concurrency || slot.queue.size > 0) slot.counters.queueWaits++;
    const signals = options.signal ? [this.#stop.signal, options.signal] : [this.#stop.signal];
    const run = async () => {
      slot.running.add(call);
      try {
        return await this.#call(slot, call, payload, options, enqueuedAt);
      } finally {
        slot.running.delete(call);
      }
    };
    slot.admitted++;
    try {
      return await addWhileWaiting(slot.queue, run, signals);
    } catch (error) {
      // Waiters rejected by stopAll share its abort reason: give each call its own error.
      if (error === this.#stop.signal.reason) throw poolStopped(name);
      throw error;
    } finally {
      slot.admitted--;
    }
  }

  /**
   * Invokes `name` through the streaming route (`InvokeWithResponseStream`): resolves once the
   * response has started, with its bytes as the function writes them and the outcome that follows.
   * The call holds its instance (and its place in the function's queue) until `body` has been read
   * to its end. An instance whose emulator cannot stream (AWS's RIE in an AWS base image) runs the
   * call buffered and yields the whole answer as one chunk (docs/lambda-apis.md#response-streaming).
   * Rejections are those of `invoke`.
   */
  async invokeStream(
    name: string,
    payload: Uint8Array,
    options: InvokeOptions = {},
  ): Promise<StreamedInvocation> {
    const slot = this.#slot(name);
    this.#assertRunning(name);
    const enqueuedAt = performance.now();
    if (slot.queue.pending >= slot.queue.concurrency || slot.queue.size > 0) slot.counters.queueWaits++;
    const signals = options.signal ? [this.#stop.signal, options.signal] : [this.#stop.signal];
    const started = deferred<StreamedInvocation>();
    const run = addWhileWaiting(
      slot.queue,
      () => this.#callStream(slot, payload, options, enqueuedAt, started.resolve),
      signals,
    );
    // Before the start, a failure rejects the start; after it, the outcome (see #callStream).
    run.catch((error: unknown) =>
      started.reject(error === this.#stop.signal.reason ? poolStopped(name) : error),
    );
    return started.promise;
  }

  /**
   * Ensures one idle instance of the current deploy id exists (launching one if needed), and, with
   * `spareInstances`, that many prepared ones behind it. A launched instance runs its init as part of
   * the launch (`LaunchContext.initAhead`, provisioned concurrency): its first call is warm where the
   * sandbox can do that (docs/emulator.md#init-ahead). An init that fails there does not fail the
   * prewarm: the first call runs it again and reports its error.
   */
  async prewarm(name: string): Promise<void> {
    const slot = this.#slot(name);
    this.#assertRunning(name);
    try {
      await addWhileWaiting(slot.queue, async () => {
        if (this.#findIdle(slot)) {
          this.#fillSpares(slot);
          return;
        }
        // Its init runs as part of the launch, as provisioned concurrency does: the first call is warm.
        const instance = await this.#launch(slot, { initAhead: true });
        this.#release(slot, instance, undefined);
      }, [this.#stop.signal]);
    } catch (error) {
      if (error === this.#stop.signal.reason) throw poolStopped(name);
      throw error;
    }
  }

  /**
   * Terminates every instance of `name`: idle ones now, busy ones when their call ends. Resolves with
   * how many instances were affected, once the idle ones are gone.
   */
  async evict(name: string): Promise<number> {
    const slot = this.#slot(name);
    slot.generation++;
    this.#dropSpares(slot);
    const count = slot.instances.size;
    await Promise.all(this.#retireAll(slot));
    return count;
  }

  list(): InstanceInfo[] {
    const out: InstanceInfo[] = [];
    for (const slot of this.#slots.values()) {
      for (const i of slot.instances) {
        const info: InstanceInfo = {
          instanceId: i.id,
          functionName: i.functionName,
          deployId: i.deployId,
          endpoint: i.endpoint,
          state: i.state,
          invocations: i.invocations,
          startedAt: i.startedAt,
        };
        if (i.lastUsedAt !== undefined) info.lastUsedAt = i.lastUsedAt;
        out.push(info);
      }
    }
    return out;
  }

  stats(): Record<string, FunctionStats> {
    const out: Record<string, FunctionStats> = {};
    for (const [name, slot] of this.#slots) {
      out[name] = {
        deployId: slot.fn.deployId,
        instances: slot.instances.size,
        spares: slot.spares.filter(
          (s) =>
            s.handle !== undefined && s.deployId === slot.fn.deployId && s.generation === slot.generation,
        ).length,
        ...slot.counters,
        durationsMs: slot.durations.summary(),
        launchDurationsMs: slot.launchDurations.summary(),
      };
    }
    return out;
  }

  /**
   * Stops the pool: waiting and running calls settle with POOL_STOPPED, launches under way are
   * terminated when they land, and every instance is terminated. Idempotent; safe during calls.
   */
  stopAll(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#stop.abort(poolStopped('any function'));
    this.#stopping = (async () => {
      for (const slot of [...this.#slots.values(), ...this.#removed]) {
        for (const instance of slot.instances) this.#terminate(slot, instance);
        this.#dropSpares(slot);
      }
      // A launch that lands after the stop terminates its instance itself (see #launch).
      while (this.#pendingLaunches.size > 0 || this.#terminations.size > 0) {
        await Promise.allSettled([...this.#pendingLaunches, ...this.#terminations]);
      }
    })();
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stopAll();
  }

  get #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  #slot(name: string): FunctionSlot {
    const slot = this.#slots.get(name);
    if (!slot) throw unknownFunction(name, this.functionNames());
    return slot;
  }

  /** Calls of `fn` that may run at once: the pool's limit, or the reserved concurrency below it. */
  #concurrencyOf(fn: ResolvedFunction): number {
    const reserved = fn.reservedConcurrency;
    return reserved !== undefined && reserved >= 1
      ? Math.min(this.#maxConcurrency, reserved)
      : this.#maxConcurrency;
  }

  #assertRunning(name: string): void {
    if (this.#stopped) throw poolStopped(name);
  }

  /**
   * A synchronous call from a function's handler that would have to wait while every place of the
   * target function is taken by a call of its own chain (its caller, the caller's caller, …) would
   * wait forever: those calls end only after this one. It fails now, with the chain.
   */
  #refuseSelfWait(slot: FunctionSlot, call: CallRecord, callerInstanceId: string): void {
    if (slot.queue.pending < slot.queue.concurrency) return;
    // Places held by anything else (another test's call, a prewarm) free up by themselves.
    if (slot.running.size < slot.queue.pending) return;
    const chain = new Set<CallRecord>();
    for (let c = call.parent; c; c = c.parent) chain.add(c);
    for (const running of slot.running) if (!chain.has(running)) return;
    const names: string[] = [];
    for (let c: CallRecord | undefined = call; c; c = c.parent) names.unshift(c.functionName);
    throw callDeadlock(slot.fn.name, names, slot.queue.concurrency, callerInstanceId);
  }

  async #call(
    slot: FunctionSlot,
    call: CallRecord,
    payload: Uint8Array,
    options: InvokeOptions,
    enqueuedAt: number,
    acquired?: Lease,
  ): Promise<InvocationOutcome> {
    const lease = acquired ?? (await this.#acquire(slot));
    this.#serving.set(lease.instance.id, call);
    try {
      return await this.#attempt(slot, call, lease, payload, options, enqueuedAt);
    } finally {
      for (const [id, c] of this.#serving) if (c === call) this.#serving.delete(id);
    }
  }

  async #attempt(
    slot: FunctionSlot,
    call: CallRecord,
    first: Lease,
    payload: Uint8Array,
    options: InvokeOptions,
    enqueuedAt: number,
  ): Promise<InvocationOutcome> {
    let lease = first;
    const queuedMs = performance.now() - enqueuedAt;
    let retried = false;
    const traceId = traceHeaderFor(options.traceId);
    for (;;) {
      const { instance } = lease;
      const capture = instance.logs?.capture();
      // The runtime starts on an instance's first call, whose init phase may take up to its own limit
      // before the function timeout starts (docs/emulator.md#init-phase); so does the init of a
      // prewarmed instance whose init failed ahead (docs/emulator.md#init-ahead). A runtime restarted later
      // behind the pool's back (freeze off) has only the margin for its init.
      const extraTimeoutMs = instance.invocations === 0 ? INIT_TIMEOUT_MS : 0;
      instance.invocations++;
      instance.lastUsedAt = Date.now();
      const started = performance.now();
      const attempt = await instance.client.invoke({
        payload,
        clientContext: options.clientContext,
        traceId,
        qualifier: options.qualifier,
        requestId: options.requestId,
        extraTimeoutMs,
      });
      const durationMs = performance.now() - started;
      const logs = capture
        ? await capture.finish(attempt.ok && !this.#stopped ? this.#logWaitMs : 0)
        : undefined;

      if (attempt.ok) {
        const requestId = logs?.requestId ?? options.requestId ?? randomUUID();
        const classification = classifyAnswer(attempt, requestId);
        if (!classification) {
          // The instance is replaced in case its state is broken.
          this.#terminate(slot, instance);
          slot.counters.invocations++;
          throw protocolError(slot.fn.name, instance.id, attempt.statusCode);
        }
        this.#release(slot, instance, classification.kind);
        const cold = this.#countFinished(slot, lease, logs, classification.kind, durationMs);
        return {
          ...classification,
          requestId,
          coldStart: cold,
          durationMs,
          queuedMs,
          instanceId: instance.id,
          logs: logs?.lines ?? [],
          traceId,
        };
      }

      this.#terminate(slot, instance);
      if (this.#stopped) throw poolStopped(slot.fn.name);
      if (!attempt.requestWritten && !retried) {
        // Provably never reached the handler (connect refused): one retry on a fresh instance.
        retried = true;
        slot.counters.retries++;
        this.#logger?.warn(
          `lambda-testkit: instance ${instance.id} of "${slot.fn.name}" refused the connection ` +
            `(${attempt.cause.message}); retrying once on a fresh instance`,
        );
        lease = { instance: await this.#launch(slot), cold: true };
        this.#serving.set(lease.instance.id, call);
        slot.counters.coldStarts++;
        continue;
      }
      slot.counters.instancesLost++;
      slot.counters.invocations++;
      throw transportError(slot.fn, instance.id, attempt, { retried, marginMs: this.#marginMs });
    }
  }

  /** One streamed call, from acquiring an instance to the end of its body; `start` hands the body out. */
  async #callStream(
    slot: FunctionSlot,
    payload: Uint8Array,
    options: InvokeOptions,
    enqueuedAt: number,
    start: (invocation: StreamedInvocation) => void,
  ): Promise<void> {
    const lease = await this.#acquire(slot);
    const { instance } = lease;
    if (instance.buffersStreams) return this.#callBuffered(slot, lease, payload, options, enqueuedAt, start);
    const queuedMs = performance.now() - enqueuedAt;
    const capture = instance.logs?.capture();
    const started = performance.now();
    // A first call's init phase has its own limit on top of the function timeout, as in #call.
    const traceId = traceHeaderFor(options.traceId);
    const attempt = await instance.client.invokeStream({
      payload,
      clientContext: options.clientContext,
      traceId,
      qualifier: options.qualifier,
      extraTimeoutMs: instance.invocations === 0 ? INIT_TIMEOUT_MS : 0,
    });
    if (attempt.ok && attempt.statusCode === 404) {
      // No streaming route: AWS's RIE. Nothing ran; the call goes the buffered way from now on.
      attempt.body.resume();
      await capture?.finish(0);
      instance.buffersStreams = true;
      return this.#callBuffered(slot, lease, payload, options, enqueuedAt, start);
    }
    instance.invocations++;
    instance.lastUsedAt = Date.now();
    if (!attempt.ok) {
      await capture?.finish(0);
      this.#terminate(slot, instance);
      if (this.#stopped) throw poolStopped(slot.fn.name);
      slot.counters.instancesLost++;
      throw transportError(slot.fn, instance.id, attempt, { retried: false, marginMs: this.#marginMs });
    }
    if (attempt.statusCode !== 200) {
      attempt.body.resume();
      await capture?.finish(0);
      this.#terminate(slot, instance);
      throw protocolError(slot.fn.name, instance.id, attempt.statusCode);
    }

    const outcome = deferred<StreamedOutcome>();
    // The caller may never look at the outcome (it reads the body only): no unhandled rejection.
    outcome.promise.catch(() => undefined);
    let size = 0;
    const body = attempt.body;
    // Counted as the caller pulls: a 'data' listener would switch the body to flowing mode and
    // read ahead of the caller.
    const counted = (async function* () {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        yield chunk;
      }
    })();
    start({
      contentType: attempt.contentType,
      ...(attempt.requestId ? { requestId: attempt.requestId } : {}),
      body: counted,
      outcome: outcome.promise,
    });
    try {
      await finished(body);
    } catch (cause) {
      // The body broke off: the caller abandoned it, or the connection failed. Either way the
      // instance may still be streaming into a closed socket: replace it.
      await capture?.finish(0);
      this.#terminate(slot, instance);
      const error = this.#stopped
        ? poolStopped(slot.fn.name)
        : transportError(
            slot.fn,
            instance.id,
            {
              ok: false,
              requestWritten: true,
              timedOut: /TIMEOUT/.test((cause as { code?: string }).code ?? ''),
              cause: cause instanceof Error ? cause : new Error(String(cause)),
            },
            { retried: false, marginMs: this.#marginMs },
          );
      outcome.reject(error);
      return;
    }
    const durationMs = performance.now() - started;
    const logs = capture ? await capture.finish(this.#stopped ? 0 : this.#logWaitMs) : undefined;
    const end = readStreamTrailers(attempt.trailers);
    if (!end) {
      this.#terminate(slot, instance);
      outcome.reject(protocolError(slot.fn.name, instance.id, attempt.statusCode));
      return;
    }
    this.#release(slot, instance, end.kind);
    const cold = this.#countFinished(slot, lease, logs, end.kind, durationMs);
    outcome.resolve({
      kind: end.kind,
      ...(end.error ? { error: end.error, functionError: 'Unhandled' as const } : {}),
      requestId: end.requestId ?? attempt.requestId ?? logs?.requestId ?? randomUUID(),
      traceId,
      coldStart: cold,
      durationMs,
      queuedMs,
      instanceId: instance.id,
      logs: logs?.lines ?? [],
      size,
    });
  }

  /** A streamed call on an instance that cannot stream: run buffered, the answer as one chunk. */
  async #callBuffered(
    slot: FunctionSlot,
    lease: Lease,
    payload: Uint8Array,
    options: InvokeOptions,
    enqueuedAt: number,
    start: (invocation: StreamedInvocation) => void,
  ): Promise<void> {
    // A streamed call names no caller (functions invoke with InvokeCommand): it joins no chain.
    const call: CallRecord = { functionName: slot.fn.name, parent: undefined };
    const result = await this.#call(slot, call, payload, options, enqueuedAt, lease);
    const { payload: bytes, json, ...rest } = result;
    // A failure is reported in the outcome, as InvokeComplete does; its document is not body bytes.
    const body = result.functionError ? [] : [bytes];
    start({
      contentType: json === undefined ? 'application/octet-stream' : 'application/json',
      requestId: result.requestId,
      body: (async function* () {
        yield* body;
      })(),
      outcome: Promise.resolve({ ...rest, size: body.reduce((n, b) => n + b.length, 0) }),
    });
  }

  #findIdle(slot: FunctionSlot): Instance | undefined {
    for (const instance of slot.instances) {
      if (instance.state === 'idle' && this.#isCurrent(slot, instance)) return instance;
    }
    return undefined;
  }

  #isCurrent(slot: FunctionSlot, instance: Instance): boolean {
    return !slot.removed && instance.deployId === slot.fn.deployId && instance.generation === slot.generation;
  }

  async #acquire(slot: FunctionSlot): Promise<Lease> {
    const idle = this.#findIdle(slot);
    if (idle) {
      clearTimeout(idle.idleTimer);
      idle.state = 'busy';
      slot.counters.warmHits++;
      return { instance: idle, cold: false };
    }
    // Every instance is busy (the queue admitted this call, so fewer than maxConcurrency are).
    // Decided synchronously: a launch of this call must count (slot.launching) before the next call looks.
    const waitMs = slot.fn.scaleOutWaitMs ?? this.#scaleOutWaitMs;
    if (waitMs > 0 && !this.#stopped && this.#freeable(slot) > 0) {
      const handed = await this.#waitForBusy(slot, waitMs);
      if (handed) {
        slot.counters.warmHits++;
        return { instance: handed, cold: false };
      }
    }
    const instance = await this.#launch(slot);
    slot.counters.coldStarts++;
    return { instance, cold: true };
  }

  /**
   * The less eager scale-out (`scaleOutWaitMs`): waits up to `waitMs` for a busy instance of the
   * function (or one being launched) to be handed over by the call that ends on it. Resolves with it,
   * or with undefined when the wait is over, the pool stops, or nothing is left that could free up.
   */
  #waitForBusy(slot: FunctionSlot, waitMs: number): Promise<Instance | undefined> {
    return new Promise<Instance | undefined>((resolve) => {
      const done = (instance: Instance | undefined) => {
        clearTimeout(timer);
        this.#stop.signal.removeEventListener('abort', giveUp);
        resolve(instance);
      };
      const giveUp = () => {
        const at = slot.waiters.indexOf(done);
        if (at >= 0) slot.waiters.splice(at, 1);
        done(undefined);
      };
      const timer = setTimeout(giveUp, waitMs);
      this.#stop.signal.addEventListener('abort', giveUp, { once: true });
      slot.waiters.push(done);
    });
  }

  /** Instances of the current deploy that may still free up for a waiting call, launches included. */
  #freeable(slot: FunctionSlot): number {
    let count = slot.launching;
    for (const instance of slot.instances) {
      if (instance.state === 'busy' && this.#isCurrent(slot, instance)) count++;
    }
    return count;
  }

  /** Waiting calls launch now when no instance is left that could be handed to them. */
  #wakeWaitersIfNothingFrees(slot: FunctionSlot): void {
    if (slot.waiters.length === 0 || this.#freeable(slot) > 0) return;
    for (const waiter of slot.waiters.splice(0)) waiter(undefined);
  }

  /**
   * Launches one instance for the caller; it comes back `busy`. A prepared spare of the current
   * deploy id is started when there is one (its instance id and environment were set when it was
   * prepared); otherwise the backend launches a new one. Either way its first call is a cold start,
   * unless `initAhead` (prewarm only) had the backend run the init as part of a new launch.
   */
  async #launch(slot: FunctionSlot, options: { initAhead?: boolean } = {}): Promise<Instance> {
    const fn = slot.fn;
    const generation = slot.generation;
    const started = performance.now();
    // A prepared spare was created without the init-ahead switch: an init-ahead launch starts afresh.
    const spare = options.initAhead ? undefined : this.#takeSpare(slot);
    const prepared = spare?.handle;
    const startPrepared = this.#backend.startPrepared?.bind(this.#backend);
    const instanceId = spare && prepared !== undefined ? spare.id : randomUUID();
    let ran = false;
    const launching = addWhileWaiting(this.#launchQueue, () => {
      ran = true;
      return prepared !== undefined && startPrepared
        ? startPrepared(prepared)
        : this.#backend.launch(fn, {
            ...this.#launchContext(fn, instanceId),
            ...(options.initAhead ? { initAhead: true } : {}),
          });
    }, [this.#stop.signal]);
    this.#pendingLaunches.add(launching);
    slot.launching++;
    let launched: Awaited<typeof launching>;
    let failed = false;
    try {
      launched = await launching;
    } catch (cause) {
      failed = true;
      // A spare taken for a start that never ran (the pool stopped while it waited): remove it here;
      // a start that ran and failed has removed it.
      if (!ran && prepared !== undefined) this.#terminateHandle(prepared, instanceId, fn.name);
      if (this.#stopped) throw poolStopped(fn.name);
      slot.counters.launchFailures++;
      const error = launchFailed(fn.name, this.#backend.name, cause);
      this.#onLaunch?.({
        functionName: fn.name,
        instanceId,
        deployId: fn.deployId,
        durationMs: performance.now() - started,
        error,
      });
      throw error;
    } finally {
      this.#pendingLaunches.delete(launching);
      slot.launching--;
      // A call waiting for this instance-to-be launches its own.
      if (failed) this.#wakeWaitersIfNothingFrees(slot);
    }

    const durationMs = performance.now() - started;
    const instance: Instance = {
      id: instanceId,
      functionName: fn.name,
      deployId: fn.deployId,
      generation,
      endpoint: launched.endpoint,
      handle: launched.handle,
      // The pool does not see a debugger come and go: for a debugged function this deadline is lifted
      // (DEBUG_TIMEOUT_SECONDS), a backstop behind the emulator's timeout, held only while one is attached.
      client: new InstanceClient(launched.endpoint, {
        timeoutMs: invokeTimeoutSeconds(fn) * 1000 + this.#marginMs,
        invokeSecret: launched.invokeSecret,
        direct: launched.direct,
      }),
      logs: this.#backend.logs?.(launched.handle),
      state: 'busy',
      invocations: 0,
      startedAt: Date.now(),
      terminated: false,
    };
    if (this.#stopped) {
      // Landed after stopAll: nothing may outlive the pool.
      this.#terminate(slot, instance);
      throw poolStopped(fn.name);
    }
    slot.instances.add(instance);
    // A call admitted before unregister() can still launch: stopAll must find that instance too.
    if (slot.removed) this.#removed.add(slot);
    slot.counters.launches++;
    slot.launchDurations.add(durationMs);
    this.#logger?.debug?.(
      `lambda-testkit: launched ${instanceId} for "${fn.name}" at ${launched.endpoint} in ${durationMs.toFixed(0)} ms`,
    );
    this.#onLaunch?.({
      functionName: fn.name,
      instanceId,
      deployId: fn.deployId,
      endpoint: launched.endpoint,
      durationMs,
    });
    // The next scale-out finds a prepared instance (prepared after this launch, not against it).
    this.#fillSpares(slot);
    return instance;
  }

  #launchContext(fn: ResolvedFunction, instanceId: string) {
    return {
      instanceId,
      runId: this.runId,
      region: this.region,
      accountId: this.accountId,
      signal: this.#stop.signal,
      environment: this.#launchEnvironment?.(fn, instanceId),
    };
  }

  /** The oldest prepared spare of the current deploy id and generation, taken out of the slot. */
  #takeSpare(slot: FunctionSlot): Spare | undefined {
    const index = slot.spares.findIndex(
      (s) =>
        s.handle !== undefined &&
        !s.dropped &&
        s.deployId === slot.fn.deployId &&
        s.generation === slot.generation,
    );
    if (index < 0) return undefined;
    return slot.spares.splice(index, 1)[0];
  }

  /**
   * Prepares instances (`LambdaBackend.prepareInstance`) until the slot holds `spareInstances` of its
   * current deploy id. Preparations run in the launch queue behind launches (lower priority); one
   * that fails leaves a gap, filled after the next launch.
   */
  #fillSpares(slot: FunctionSlot): void {
    const backend = this.#backend;
    if (this.#spareInstances === 0 || !backend.prepareInstance || !backend.startPrepared) return;
    if (slot.removed || this.#stopped) return;
    const fn = slot.fn;
    let current = slot.spares.filter((s) => s.deployId === fn.deployId && s.generation === slot.generation);
    while (current.length < this.#spareInstances) {
      const id = randomUUID();
      const spare: Spare = {
        id,
        deployId: fn.deployId,
        generation: slot.generation,
        dropped: false,
        prepared: Promise.resolve(undefined),
      };
      const preparing = this.#launchQueue.add(
        async () =>
          spare.dropped || this.#stopped
            ? undefined
            : backend.prepareInstance?.(fn, this.#launchContext(fn, id)),
        { priority: -1 },
      );
      spare.prepared = preparing.then(
        (handle) => {
          if (handle === undefined) return undefined;
          if (spare.dropped || this.#stopped) {
            this.#terminateHandle(handle, id, fn.name);
            return undefined;
          }
          spare.handle = handle;
          return handle;
        },
        (error: unknown) => {
          slot.spares = slot.spares.filter((s) => s !== spare);
          this.#logger?.debug?.(
            `lambda-testkit: preparing a spare instance of "${fn.name}" failed: ${error instanceof Error ? error.message : String(error)}`,
          );
          return undefined;
        },
      );
      this.#pendingLaunches.add(spare.prepared);
      void spare.prepared.finally(() => this.#pendingLaunches.delete(spare.prepared));
      slot.spares.push(spare);
      current = [...current, spare];
    }
  }

  /** Drops every spare of the slot (a new deploy id, evict, unregister, stop): each is terminated once prepared. */
  #dropSpares(slot: FunctionSlot): void {
    for (const spare of slot.spares.splice(0)) {
      spare.dropped = true;
      void spare.prepared.then((handle) => {
        if (handle !== undefined) this.#terminateHandle(handle, spare.id, slot.fn.name);
      });
    }
  }

  /** Terminates a backend handle that never became a pool instance (a dropped spare). */
  #terminateHandle(handle: unknown, id: string, functionName: string): void {
    const termination = this.#backend.terminate(handle).catch((error: unknown) => {
      this.#logger?.warn(
        `lambda-testkit: removing the prepared instance ${id} of "${functionName}" failed: ` +
          `${error instanceof Error ? error.message : String(error)}`,
      );
    });
    this.#terminations.add(termination);
    void termination.finally(() => this.#terminations.delete(termination));
  }

  /** Ends a call on `instance`: back to idle, or terminated when it must not serve again. */
  /**
   * Counts a call the instance answered (buffered or streamed) on its slot; returns whether it was
   * a cold start. An instance that restarted its runtime behind the pool's back (it ended while
   * idle) says so with an Init Duration in its report (instance-logs.ts `initReported`): that call
   * was a cold start too, wherever it is counted.
   */
  #countFinished(
    slot: FunctionSlot,
    lease: Lease,
    logs: InvocationLogs | undefined,
    kind: InvocationKind,
    durationMs: number,
  ): boolean {
    const cold = lease.cold || logs?.initReported === true;
    if (cold && !lease.cold) {
      slot.counters.coldStarts++;
      slot.counters.warmHits--;
    }
    slot.counters.invocations++;
    if (kind !== 'success') slot.counters.errors++;
    slot.durations.add(durationMs);
    return cold;
  }

  /**
   * Ends a call on `instance`: handed to a call waiting for it, back to idle, or terminated when it
   * must not serve again.
   */
  #release(slot: FunctionSlot, instance: Instance, kind: InvocationKind | undefined): void {
    if (instance.terminated) return;
    if (
      this.#stopped ||
      instance.state === 'retiring' ||
      !this.#isCurrent(slot, instance) ||
      (kind !== undefined && RESETTING_KINDS.has(kind))
    ) {
      this.#terminate(slot, instance);
      return;
    }
    // A call waiting for a busy instance (scaleOutWaitMs) takes this one over, still busy.
    const waiter = slot.waiters.shift();
    if (waiter) {
      instance.state = 'busy';
      waiter(instance);
      return;
    }
    instance.state = 'idle';
    if (Number.isFinite(this.#idleTtlMs)) {
      instance.idleTimer = setTimeout(() => {
        if (instance.state === 'idle') this.#terminate(slot, instance);
      }, this.#idleTtlMs);
      instance.idleTimer.unref?.();
    }
  }

  /** Terminates idle instances now and marks busy ones to be terminated after their call. */
  #retireAll(slot: FunctionSlot): Promise<void>[] {
    const terminations: Promise<void>[] = [];
    for (const instance of slot.instances) {
      if (instance.state === 'idle') terminations.push(this.#terminate(slot, instance));
      else instance.state = 'retiring';
    }
    return terminations;
  }

  /** Removes the instance from the pool and terminates it (once). */
  #terminate(slot: FunctionSlot, instance: Instance): Promise<void> {
    slot.instances.delete(instance);
    this.#wakeWaitersIfNothingFrees(slot);
    if (slot.removed && slot.instances.size === 0) this.#removed.delete(slot);
    clearTimeout(instance.idleTimer);
    if (instance.terminated) return Promise.resolve();
    instance.terminated = true;
    instance.state = 'retiring';
    const termination = (async () => {
      await instance.client.destroy();
      try {
        await this.#backend.terminate(instance.handle);
      } catch (error) {
        this.#logger?.warn(
          `lambda-testkit: terminating instance ${instance.id} of "${instance.functionName}" failed: ` +
            `${error instanceof Error ? error.message : String(error)}`,
        );
      }
    })();
    this.#terminations.add(termination);
    void termination.finally(() => this.#terminations.delete(termination));
    return termination;
  }
}
