/**
 * The warm pool: instances per function, each tagged with the deploy id it was launched with,
 * behind the small `LambdaBackend` interface (architecture.md, "WarmPool").
 *
 * Invariants:
 * - one in-flight invocation per instance, always: an instance is handed to exactly one call at a
 *   time (the AWS RIE crashes on overlapping requests, aws-lambda-runtime-interface-emulator#97);
 * - at most `maxConcurrency` calls of a function run at once (a FIFO p-queue per function), and each
 *   running call holds at most one instance, so a function never has more than `maxConcurrency`
 *   instances and a launch only happens when every existing instance is busy: the queue's
 *   synchronous admission is the per-function startup lock;
 * - at most `maxConcurrentLaunches` launches run at once over all functions (a second p-queue);
 * - an instance is retired (terminated) on a deploy-id change (after its in-flight call), on
 *   `evict`, on idle TTL, on a transport failure, and after a timeout, runtime exit or init error:
 *   RIE would respawn the runtime in the same sandbox, but real Lambda resets the execution
 *   environment after these (lambda-protocol.md §6.5: "restart the container or runtime"), and a
 *   fresh instance is the one reset every backend implements the same way. The next call is then a
 *   cold start, as it is on Lambda.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import PQueue from 'p-queue';
import type { LambdaBackend } from '../backend.ts';
import { BackendError, ConfigError, ErrorCodes, InvokeError, type LambdaTestkitError } from '../errors.ts';
import type { ResolvedFunction } from '../function-spec.ts';
import type { InstanceLogs } from '../instance-logs.ts';
import type { InvocationKind, InvocationOutcome, InvokeOptions } from '../invocation.ts';
import { classifyAnswer } from './classify.ts';
import { DurationSamples, type DurationSummary } from './duration-summary.ts';
import { InstanceClient, type InvokeAttempt } from './invoke-client.ts';

export interface PoolLogger {
  debug?(message: string): void;
  warn(message: string): void;
}

export interface LaunchEvent {
  functionName: string;
  instanceId: string;
  deployId: string;
  /** Set when the launch succeeded. */
  endpoint?: string;
  durationMs: number;
  /** Set when the launch failed. */
  error?: LambdaTestkitError;
}

export interface WarmPoolOptions {
  /** What runs instances (Docker, processes, a fake). The pool does not close it: its owner does. */
  backend: LambdaBackend;
  /**
   * Most instances (and calls in flight) per function; further calls wait in FIFO order.
   * @default 10
   */
  maxConcurrency?: number;
  /**
   * Most launches under way at once, over all functions.
   * @default 4
   */
  maxConcurrentLaunches?: number;
  /**
   * An instance idle this long is terminated. `Infinity` keeps idle instances until stopped.
   * @default 600_000
   */
  idleTtlMs?: number;
  /** @default 'us-east-1' */
  region?: string;
  /** @default '123456789012' */
  accountId?: string;
  /** Identifies this run in what backends launch (labels, temp dirs). @default a random UUID */
  runId?: string;
  /**
   * Added to the function timeout to bound the wait for an instance's answer (the instance itself
   * enforces the function timeout; the margin covers a first call's init and slow hosts).
   * @default 5000
   */
  invokeTimeoutMarginMs?: number;
  /**
   * How long to wait, after the answer, for the invocation's REPORT log line.
   * @default 1000
   */
  logWaitMs?: number;
  /** Called after every launch attempt, successful or not. */
  onLaunch?: (event: LaunchEvent) => void;
  /**
   * Variables for one instance alone (`LaunchContext.environment`), e.g. its credentials for the
   * pool server. Not part of the deploy id.
   */
  launchEnvironment?: (fn: ResolvedFunction, instanceId: string) => Record<string, string> | undefined;
  logger?: PoolLogger;
}

/** `busy`: serving a call; `retiring`: serving a call, terminated when it ends. */
export type InstanceState = 'idle' | 'busy' | 'retiring';

export interface InstanceInfo {
  instanceId: string;
  functionName: string;
  deployId: string;
  endpoint: string;
  state: InstanceState;
  invocations: number;
  /** Epoch milliseconds. */
  startedAt: number;
  /** Epoch milliseconds of the last call's start, if any. */
  lastUsedAt?: number;
}

/** Per-function event counts, kept by the pool and reported by `stats()`. */
export interface FunctionCounters {
  /** Calls served by an instance launched for them (including a retry's fresh instance). */
  coldStarts: number;
  /** Calls served by an instance that already existed. */
  warmHits: number;
  /** Calls that had to wait because `maxConcurrency` calls were running. */
  queueWaits: number;
  /** Successful launches. */
  launches: number;
  launchFailures: number;
  /** Calls that got an answer from an instance. */
  invocations: number;
  /** Answers that were function errors (handled, timeout, exit, init, oversized). */
  errors: number;
  /** Calls retried on a fresh instance after a failure before any byte was sent. */
  retries: number;
  /** Calls that failed with INSTANCE_LOST or INVOKE_TIMEOUT. */
  instancesLost: number;
}

export interface FunctionStats extends FunctionCounters {
  /** The deploy id new calls are served by. */
  deployId: string;
  /** Live instances (idle, busy or retiring). */
  instances: number;
  durationsMs: DurationSummary;
  launchDurationsMs: DurationSummary;
}

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
}

interface FunctionSlot {
  fn: ResolvedFunction;
  generation: number;
  /** Unregistered: calls already admitted finish, then its instances are terminated. */
  removed?: boolean;
  /** Calls of this function: `maxConcurrency` at once, the rest wait FIFO. */
  queue: PQueue;
  instances: Set<Instance>;
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

/**
 * Queues `task` and lets `signals` cancel it only while it waits: p-queue frees the slot of a
 * *running* task whose signal aborts while the task goes on, which would let a second call onto a
 * function's capacity (or leak a launch), so the signals are detached the moment the task starts.
 */
function addWhileWaiting<T>(queue: PQueue, task: () => Promise<T>, signals: AbortSignal[]): Promise<T> {
  const waiting = new AbortController();
  const detach: (() => void)[] = [];
  for (const signal of signals) {
    if (signal.aborted) {
      waiting.abort(signal.reason);
      break;
    }
    const onAbort = () => waiting.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    detach.push(() => signal.removeEventListener('abort', onAbort));
  }
  const cleanup = () => {
    for (const d of detach.splice(0)) d();
  };
  return queue
    .add(
      () => {
        cleanup();
        return task();
      },
      { signal: waiting.signal },
    )
    .finally(cleanup);
}

export class WarmPool implements AsyncDisposable {
  readonly runId: string;
  readonly region: string;
  readonly accountId: string;
  #backend: LambdaBackend;
  #maxConcurrency: number;
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
    this.#launchQueue = new PQueue({
      concurrency: positiveInteger('maxConcurrentLaunches', options.maxConcurrentLaunches ?? 4),
    });
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
        queue: new PQueue({ concurrency: this.#maxConcurrency }),
        instances: new Set(),
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
        },
        durations: new DurationSamples(),
        launchDurations: new DurationSamples(),
      });
      return;
    }
    const changed = slot.fn.deployId !== fn.deployId;
    slot.fn = fn;
    if (changed) {
      this.#logger?.debug?.(
        `lambda-testkit: "${fn.name}" has a new deploy id ${fn.deployId}; retiring old instances`,
      );
      this.#retireAll(slot);
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
   * UNKNOWN_FUNCTION, LAUNCH_FAILED, INSTANCE_LOST, INVOKE_TIMEOUT, PROTOCOL_ERROR, POOL_STOPPED.
   */
  async invoke(name: string, payload: Uint8Array, options: InvokeOptions = {}): Promise<InvocationOutcome> {
    const slot = this.#slot(name);
    this.#assertRunning(name);
    const parent = options.callerInstanceId ? this.#serving.get(options.callerInstanceId) : undefined;
    const call: CallRecord = { functionName: name, parent };
    if (parent) this.#refuseSelfWait(slot, call, options.callerInstanceId as string);
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
    try {
      return await addWhileWaiting(slot.queue, run, signals);
    } catch (error) {
      // Waiters rejected by stopAll share its abort reason: give each call its own error.
      if (error === this.#stop.signal.reason) throw this.#stoppedError(name);
      throw error;
    }
  }

  /** Ensures one idle instance of the current deploy id exists (launching one if needed). */
  async prewarm(name: string): Promise<void> {
    const slot = this.#slot(name);
    this.#assertRunning(name);
    try {
      await addWhileWaiting(slot.queue, async () => {
        if (this.#findIdle(slot)) return;
        const instance = await this.#launch(slot);
        this.#release(slot, instance, undefined);
      }, [this.#stop.signal]);
    } catch (error) {
      if (error === this.#stop.signal.reason) throw this.#stoppedError(name);
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
    this.#stop.abort(this.#stoppedError('any function'));
    this.#stopping = (async () => {
      for (const slot of [...this.#slots.values(), ...this.#removed]) {
        for (const instance of slot.instances) this.#terminate(slot, instance);
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
    if (!slot) {
      const known = this.functionNames();
      throw new ConfigError(
        ErrorCodes.UNKNOWN_FUNCTION,
        `No function named "${name}" is declared. ` +
          (known.length > 0 ? `Known functions: ${known.join(', ')}. ` : 'No functions are declared. ') +
          'Fix the name or declare the function in the lambda-testkit configuration.',
        { details: { function: name, known } },
      );
    }
    return slot;
  }

  #assertRunning(name: string): void {
    if (this.#stopped) throw this.#stoppedError(name);
  }

  #stoppedError(name: string): InvokeError {
    return new InvokeError(
      ErrorCodes.POOL_STOPPED,
      `The warm pool was stopped while a call to "${name}" waited or ran. ` +
        'Invoke functions only while the test run is active (not after global teardown).',
      { details: { function: name } },
    );
  }

  /**
   * A synchronous call from a function's handler that would have to wait while every place of the
   * target function is taken by a call of its own chain (its caller, the caller's caller, …) would
   * wait forever: those calls end only after this one. It fails now, with the chain.
   */
  #refuseSelfWait(slot: FunctionSlot, call: CallRecord, callerInstanceId: string): void {
    if (slot.queue.pending < slot.queue.concurrency) return;
    const chain = new Set<CallRecord>();
    for (let c = call.parent; c; c = c.parent) chain.add(c);
    // Places held by anything else (another test's call, a prewarm) free up by themselves.
    if (slot.running.size < slot.queue.pending) return;
    for (const running of slot.running) if (!chain.has(running)) return;
    const names: string[] = [];
    for (let c: CallRecord | undefined = call; c; c = c.parent) names.unshift(c.functionName);
    const name = slot.fn.name;
    throw new InvokeError(
      ErrorCodes.CALL_DEADLOCK,
      `A synchronous call to "${name}" from its own call chain (${names.join(' → ')}) would wait forever: all ` +
        `${slot.queue.concurrency} instance(s) of "${name}" that maxConcurrency allows are held by calls waiting for ` +
        'this one. Raise maxConcurrency, invoke with InvocationType "Event" (no waiting), or end the recursion sooner.',
      {
        details: {
          function: name,
          chain: names,
          maxConcurrency: slot.queue.concurrency,
          callerInstanceId,
        },
      },
    );
  }

  async #call(
    slot: FunctionSlot,
    call: CallRecord,
    payload: Uint8Array,
    options: InvokeOptions,
    enqueuedAt: number,
  ): Promise<InvocationOutcome> {
    const lease = await this.#acquire(slot);
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
    for (;;) {
      const { instance } = lease;
      const capture = instance.logs?.capture();
      instance.invocations++;
      instance.lastUsedAt = Date.now();
      const started = performance.now();
      const attempt = await instance.client.invoke({ payload, clientContext: options.clientContext });
      const durationMs = performance.now() - started;
      const logs = capture
        ? await capture.finish(attempt.ok && !this.#stopped ? this.#logWaitMs : 0)
        : undefined;

      if (attempt.ok) {
        const requestId = logs?.requestId ?? randomUUID();
        const classification = classifyAnswer(attempt, requestId);
        if (!classification) throw this.#protocolError(slot, instance, attempt.statusCode);
        this.#release(slot, instance, classification.kind);
        slot.counters.invocations++;
        if (classification.kind !== 'success') slot.counters.errors++;
        slot.durations.add(durationMs);
        return {
          ...classification,
          requestId,
          coldStart: lease.cold,
          durationMs,
          queuedMs,
          instanceId: instance.id,
          logs: logs?.lines ?? [],
        };
      }

      this.#terminate(slot, instance);
      if (this.#stopped) throw this.#stoppedError(slot.fn.name);
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
      throw this.#transportError(slot, instance, attempt, retried);
    }
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
    const instance = await this.#launch(slot);
    slot.counters.coldStarts++;
    return { instance, cold: true };
  }

  /** Launches one instance for the caller; it comes back `busy`. */
  async #launch(slot: FunctionSlot): Promise<Instance> {
    const fn = slot.fn;
    const generation = slot.generation;
    const instanceId = randomUUID();
    const started = performance.now();
    const launching = addWhileWaiting(
      this.#launchQueue,
      () =>
        this.#backend.launch(fn, {
          instanceId,
          runId: this.runId,
          region: this.region,
          accountId: this.accountId,
          signal: this.#stop.signal,
          environment: this.#launchEnvironment?.(fn, instanceId),
        }),
      [this.#stop.signal],
    );
    this.#pendingLaunches.add(launching);
    let launched: Awaited<typeof launching>;
    try {
      launched = await launching;
    } catch (cause) {
      if (this.#stopped) throw this.#stoppedError(fn.name);
      slot.counters.launchFailures++;
      const error =
        // A backend's own testkit error (DOCKER_UNAVAILABLE, IMAGE_UNAVAILABLE, a bad image setting)
        // already names the problem and the fix; anything else is wrapped with the function's name.
        cause instanceof BackendError || cause instanceof ConfigError
          ? cause
          : new BackendError(
              ErrorCodes.LAUNCH_FAILED,
              `Could not launch an instance of "${fn.name}" with the ${this.#backend.name} backend: ` +
                `${cause instanceof Error ? cause.message : String(cause)}. See the cause for details.`,
              { cause, details: { function: fn.name, backend: this.#backend.name } },
            );
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
    }

    const durationMs = performance.now() - started;
    const instance: Instance = {
      id: instanceId,
      functionName: fn.name,
      deployId: fn.deployId,
      generation,
      endpoint: launched.endpoint,
      handle: launched.handle,
      client: new InstanceClient(launched.endpoint, { timeoutMs: fn.timeout * 1000 + this.#marginMs }),
      logs: this.#backend.logs?.(launched.handle),
      state: 'busy',
      invocations: 0,
      startedAt: Date.now(),
      terminated: false,
    };
    if (this.#stopped) {
      // Landed after stopAll: nothing may outlive the pool.
      this.#terminate(slot, instance);
      throw this.#stoppedError(fn.name);
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
    return instance;
  }

  /** Ends a call on `instance`: back to idle, or terminated when it must not serve again. */
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

  #transportError(
    slot: FunctionSlot,
    instance: Instance,
    attempt: Extract<InvokeAttempt, { ok: false }>,
    retried: boolean,
  ): InvokeError {
    const fn = slot.fn;
    const details = {
      function: fn.name,
      instanceId: instance.id,
      requestWritten: attempt.requestWritten,
      retried,
    };
    if (attempt.timedOut) {
      return new InvokeError(
        ErrorCodes.INVOKE_TIMEOUT,
        `"${fn.name}" did not answer within its timeout (${fn.timeout} s) plus ${this.#marginMs} ms on instance ` +
          `${instance.id}; the instance was replaced. Raise the function's "timeout" if the handler needs longer.`,
        { cause: attempt.cause, details },
      );
    }
    if (!attempt.requestWritten) {
      return new InvokeError(
        ErrorCodes.INSTANCE_LOST,
        `"${fn.name}": a fresh instance (${instance.id}) also refused the connection after a retry ` +
          `(${attempt.cause.message}). The backend launches instances that do not answer; check its logs.`,
        { cause: attempt.cause, details },
      );
    }
    return new InvokeError(
      ErrorCodes.INSTANCE_LOST,
      `Instance ${instance.id} of "${fn.name}" failed after the request was sent (${attempt.cause.message}). ` +
        'The call may have reached the handler, so it was not retried; the next call gets a fresh instance.',
      { cause: attempt.cause, details },
    );
  }

  #protocolError(slot: FunctionSlot, instance: Instance, statusCode: number): InvokeError {
    // RIE answers 400/500/504 only on its own faults (a malformed X-Amz-Client-Context gives 500);
    // the instance is replaced in case its state is broken.
    this.#terminate(slot, instance);
    return new InvokeError(
      ErrorCodes.PROTOCOL_ERROR,
      `Instance ${instance.id} of "${slot.fn.name}" answered HTTP ${statusCode}, which is not an invocation ` +
        'result. RIE does this for a malformed X-Amz-Client-Context (it must be base64 JSON); check the call.',
      { details: { function: slot.fn.name, instanceId: instance.id, statusCode } },
    );
  }
}
