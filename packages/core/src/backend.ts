/**
 * The small interface between the warm pool and whatever runs instances (Docker, processes).
 * The pool never knows a concrete backend; backends never import the pool.
 */
import type { ResolvedFunction } from './function-spec.ts';
import type { InstanceLogs } from './instance-logs.ts';

/** Facts about the run that a backend stamps on what it launches. */
export interface LaunchContext {
  /** Unique id of this instance (used in labels, temp dir names, stats). */
  instanceId: string;
  /** Unique id of this test run (one pool server). */
  runId: string;
  /** Region in ARNs and `AWS_REGION`. */
  region: string;
  /** Account id in ARNs. */
  accountId: string;
  /** Aborted when the pool stops while the launch is under way. */
  signal?: AbortSignal;
  /**
   * Variables of this instance alone (its credentials for the pool server), set under the
   * function's own `environment`. Not part of the deploy id.
   */
  environment?: Record<string, string>;
  /**
   * Run the function's init as part of the launch, before any invoke, as provisioned concurrency
   * does (the pool's `prewarm`; docs/emulator.md#init-ahead): the launch resolves once the init is
   * done, and the first call is warm. Backends whose sandbox cannot do it (AWS's RIE) ignore it.
   * @default false: the init runs at the first invoke, as on demand
   */
  initAhead?: boolean;
}

/** Where a backend's sandboxes reach the host's declared ports (for the run's one line about it). */
export interface WiredHost {
  /** The host address the declared ports listen on for sandboxes (a Docker network's gateway). */
  address: string;
}

/** How the run's sandboxes reach services (docs/wiring.md); given to `LambdaBackend.wire`. */
export interface BackendWiring {
  /** A Docker network every sandbox joins (backends without networks ignore it). */
  network?: string;
  /** Ports of servers on the host's 127.0.0.1 that sandboxes may reach at `sandboxHost`. */
  hostPorts: number[];
}

export interface LaunchedInstance<H = unknown> {
  /** Base URL of the instance's RIE-compatible invoke endpoint, e.g. `http://127.0.0.1:49153`. */
  endpoint: string;
  /** Opaque to the pool; passed back to `terminate` and `logs`. */
  handle: H;
  /**
   * The instance's invoke secret, when its endpoint requires one (lambda-testkit's emulator started
   * with `LAMBDA_TESTKIT_INVOKE_SECRET`): the pool sends it on every invoke in the
   * `x-lambda-testkit-invoke-secret` header and never logs it (docs/security.md).
   */
  invokeSecret?: string;
  /**
   * The instance's invoke handling, callable in this process, for a backend whose instances run their
   * emulator inside it (the process backend; docs/architecture.md#process-backend). The pool then sends
   * buffered invokes through it instead of HTTP to `endpoint`, which still serves streamed invokes.
   * @default none: every invoke goes over HTTP
   */
  direct?: DirectInvoker;
}

/**
 * A buffered invoke without HTTP: answers what the instance's RIE invoke route would answer. The
 * emulator's `invokeDirect` has this shape (emulator/ imports nothing from here: it is copied alone
 * into images, so the two request and answer types are declared on each side).
 */
export interface DirectInvoker {
  /** Never rejects. */
  invoke(request: DirectInvokeRequest): Promise<DirectAnswer>;
}

/** One buffered invocation: the event and what the invoke route's headers would carry. */
export interface DirectInvokeRequest {
  payload: Uint8Array;
  /** As `X-Amz-Client-Context` (base64 JSON). */
  clientContext?: string | undefined;
  /** As `X-Amzn-Trace-Id`. */
  traceId?: string | undefined;
  /** As `x-lambda-testkit-qualifier`. */
  qualifier?: string | undefined;
  /** As `x-lambda-testkit-request-id`. */
  requestId?: string | undefined;
}

/** The invoke route's answer: status, headers (without `content-length`), body. */
export interface DirectAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface PrepareProgress {
  /** Human-readable line, e.g. `pulling public.ecr.aws/lambda/nodejs:22: 120/700 MB`. */
  message: string;
}

/** What `prepare` may say back about one function. */
export interface PrepareResult {
  /**
   * Something the run should be told once, such as "run on the process backend instead: image … cannot
   * be had here". The caller groups functions with the same notice into one line.
   */
  notice?: string;
}

export interface LambdaBackend<H = unknown> {
  readonly name: string;
  /** Starts one instance and resolves once its invoke endpoint accepts connections. */
  launch(fn: ResolvedFunction, context: LaunchContext): Promise<LaunchedInstance<H>>;
  /**
   * Creates an instance without starting it (Docker: the container is created with its code
   * mounted), so that a later `startPrepared` pays only the start. Optional: the pool keeps
   * `spareInstances` prepared per function only with a backend that has both methods. A prepared
   * instance that is never started is discarded with `terminate`.
   */
  prepareInstance?(fn: ResolvedFunction, context: LaunchContext): Promise<H>;
  /**
   * Starts an instance `prepareInstance` created; resolves as `launch` does. A failed start removes
   * the instance. The function inside starts as it would in `launch`: its first call is a cold start.
   */
  startPrepared?(handle: H): Promise<LaunchedInstance<H>>;
  /** Stops the instance and removes what it left. Idempotent; never throws for an already-gone instance. */
  terminate(handle: H): Promise<void>;
  /** Makes the first launch of `fn` fast (pull or build the image) and reports progress. */
  prepare?(
    fn: ResolvedFunction,
    onProgress?: (p: PrepareProgress) => void,
    // biome-ignore lint/suspicious/noConfusingVoidType: a backend with nothing to say resolves with nothing (Promise<void>)
  ): Promise<PrepareResult | void>;
  /** Removes what earlier runs whose owning process is gone left behind; resolves with how many. */
  reapStale?(): Promise<number>;
  /** The log stream of an instance, from which each invocation's lines are cut. */
  logs?(handle: H): InstanceLogs | undefined;
  /**
   * The host name under which this backend's sandboxes reach the host's `hostPorts`.
   * @default '127.0.0.1'
   */
  readonly sandboxHost?: string;
  /**
   * Makes `wiring` hold for the instances launched from now on (called again with the whole new
   * wiring when it changes). Without it, sandboxes reach the host as host processes do. Resolves
   * with the host address that answers sandboxes for `hostPorts`, when it is not loopback.
   */
  wire?(wiring: BackendWiring): Promise<WiredHost | undefined>;
  /** Releases backend-wide resources (clients, sockets). Idempotent. */
  close?(): Promise<void>;
}
