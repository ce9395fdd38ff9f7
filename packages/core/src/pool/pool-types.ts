/** The warm pool's options and what it reports (instances, per-function counters and stats). */
import type { LambdaBackend } from '../backend.ts';
import type { LambdaTestkitError } from '../errors.ts';
import type { ResolvedFunction } from '../function-spec.ts';
import type { DurationSummary } from './duration-summary.ts';

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
   * How long a call that finds every instance of its function busy waits for one of them to free up
   * before it launches another (still at most `maxConcurrency`). 0 launches at once, as Lambda scales
   * out; a few tens of ms keep a suite whose parallel files call the same functions from paying a
   * cold start for every overlap. A function's own `scaleOutWaitMs` wins.
   * @default 0
   */
  scaleOutWaitMs?: number;
  /**
   * Most launches under way at once, over all functions.
   * @default 4
   */
  maxConcurrentLaunches?: number;
  /**
   * Prepared instances kept per function in use, created but not started (Docker: the container is
   * created with its code mounted), so that a scale-out or a relaunch pays only the start. They are
   * made after a function's first launch (or its prewarm) and after every launch that used one, behind
   * the launches in the queue; they hold no memory or CPU until started, and each start is still a
   * cold start. Only backends with `prepareInstance` use it (Docker); others ignore it. 0 prepares nothing.
   * @default 0
   */
  spareInstances?: number;
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
  /**
   * Calls an instance was given, answered or failed (a fault status, a lost instance, a timeout); a
   * call retried on a fresh instance counts once, so `coldStarts + warmHits = invocations + retries`.
   */
  invocations: number;
  /** Answers that were function errors (handled, timeout, exit, init, oversized). */
  errors: number;
  /** Calls retried on a fresh instance after a failure before any byte was sent. */
  retries: number;
  /** Calls that failed with INSTANCE_LOST or INVOKE_TIMEOUT. */
  instancesLost: number;
  /** Calls refused over `reservedConcurrency` (LTK_THROTTLED, 429). */
  throttles: number;
}

export interface FunctionStats extends FunctionCounters {
  /** The deploy id new calls are served by. */
  deployId: string;
  /** Live instances (idle, busy or retiring). */
  instances: number;
  /** Prepared instances of the current deploy id ready for a scale-out (`spareInstances`). */
  spares: number;
  durationsMs: DurationSummary;
  launchDurationsMs: DurationSummary;
}
