/**
 * KubernetesBackend: each Lambda instance is a Pod of the runtime's image, in one namespace, behind
 * the same LambdaBackend interface as Docker, so the pool, the server and the adapters do not change.
 *
 * - Code and layers: payload ConfigMaps + an init container (code-payload.ts).
 * - The invoke port: a port-forward on 127.0.0.1 from outside the cluster, the Pod IP from inside
 *   (port-forward.ts).
 * - Liveness and clean-up: an owner Lease per backend session, renewed while it lives; later runs
 *   and `lambda-testkit clean --kubernetes` delete what dead sessions left (owner-lease.ts, reap-stale.ts).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import type { LambdaBackend, LaunchContext, LaunchedInstance } from '../../backend.ts';
import { BackendError, ConfigError, ErrorCodes, isTestkitError } from '../../errors.ts';
import type { ResolvedFunction } from '../../function-spec.ts';
import { type InstanceLogs, LineLog } from '../../instance-logs.ts';
import { stderrLog } from '../../log.ts';
import { sandboxEnvironment } from '../../sandbox-env.ts';
import { functionImage } from '../shared/function-image.ts';
import { LIBRARY_NAME, LIBRARY_VERSION } from '../shared/object-labels.ts';
import { probeHttp } from '../shared/probe-http.ts';
import { stopOnce } from '../shared/stop-once.ts';
import {
  type ClusterClient,
  type ClusterOptions,
  checkCluster,
  clusterClient,
  message,
  runsInPod,
  statusOf,
} from './cluster-client.ts';
import {
  buildCodePayload,
  type CodePayload,
  payloadConfigMaps,
  payloadHash,
  payloadVolume,
} from './code-payload.ts';
import { followLogs, type LogFollow } from './follow-logs.ts';
import { KubernetesLabels, labelValue, objectName, selector } from './labels.ts';
import { OwnerLease } from './owner-lease.ts';
import { INSTALL_CONTAINER, INVOKE_PORT, instancePod, RUNTIME_CONTAINER } from './pod-spec.ts';
import { forwardPodPort, type PodForward } from './port-forward.ts';
import { type ReapedKubernetes, reapStaleObjects } from './reap-stale.ts';

/** Lines of a failed Pod's output kept for launch-failure messages. */
const TAIL_LINES = 20;
/** How often a starting or ending Pod is read. */
const POLL_MS = 100;
/** Waiting reasons of a container that will not start by waiting longer. */
const STUCK_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

export interface KubernetesBackendOptions extends ClusterOptions {
  /**
   * Namespace of the Pods, ConfigMaps and the owner Lease.
   * @default the kubeconfig context's namespace, else `default`
   */
  namespace?: string;
  /**
   * Image per runtime identifier for the whole run (as the Docker backend's `images`). A function's
   * own `image` wins over this; this wins over the official base image.
   * @default {}
   */
  images?: Record<string, string>;
  /**
   * How the pool reaches a Pod's invoke port: `port-forward` (through the API server, on 127.0.0.1
   * of this host), `pod-ip` (directly; only from inside the cluster network), or `auto`: `pod-ip`
   * when this process runs in a Pod, else `port-forward`.
   * @default 'auto'
   */
  access?: 'auto' | 'port-forward' | 'pod-ip';
  /**
   * Milliseconds a Pod gets, from its creation, to answer on its invoke port (image pulls included:
   * the kubelet pulls).
   * @default 120000
   */
  startupTimeoutMs?: number;
  /**
   * CPU request of each Pod (a Kubernetes quantity such as `'250m'`).
   * @default proportional to memorySize, as Lambda allots CPU (1,769 MB = one vCPU)
   */
  cpuRequest?: string;
  /**
   * `imagePullPolicy` of the Pods.
   * @default 'IfNotPresent'
   */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /**
   * Seconds the owner Lease is valid without renewal (renewed every third of it). Another host treats
   * this run as dead after twice this; on this host a dead owner is seen at once.
   * @default 30
   */
  leaseDurationSeconds?: number;
  /**
   * Remove what dead runs left in the namespace, before the first launch.
   * @default true
   */
  reapOnStart?: boolean;
  /**
   * Where progress lines go (the sweep, deprecation warnings).
   * @default a line on stderr
   */
  log?: (line: string) => void;
}

/** What the pool holds for one Pod (opaque to it; tests may read the names). */
export interface KubernetesInstance {
  readonly podName: string;
  readonly namespace: string;
  readonly image: string;
  readonly functionName: string;
}

interface InstanceState {
  logs: LineLog;
  logStream?: LogFollow;
  forward?: PodForward;
  stopping?: Promise<void>;
}

interface PayloadRef {
  payload: CodePayload;
  names: string[];
}

export class KubernetesBackend implements LambdaBackend<KubernetesInstance> {
  readonly name = 'kubernetes';
  /** This backend's session: the owner Lease and the label on everything it creates. */
  readonly session = `${hostname()
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 20)}-${randomBytes(5).toString('hex')}`;
  readonly namespace: string;
  readonly #options: KubernetesBackendOptions &
    Required<
      Pick<
        KubernetesBackendOptions,
        'images' | 'startupTimeoutMs' | 'imagePullPolicy' | 'leaseDurationSeconds' | 'reapOnStart' | 'log'
      >
    >;
  readonly #instances = new Map<KubernetesInstance, InstanceState>();
  readonly #payloads = new Map<string, Promise<PayloadRef>>();
  readonly #warned = new Set<string>();
  readonly #access: 'port-forward' | 'pod-ip';
  #client: ClusterClient | undefined;
  #lease: OwnerLease | undefined;
  #ready: Promise<V1OwnerReference> | undefined;
  #closed = false;

  constructor(options: KubernetesBackendOptions = {}) {
    this.#options = {
      ...options,
      images: options.images ?? {},
      startupTimeoutMs: options.startupTimeoutMs ?? 120_000,
      imagePullPolicy: options.imagePullPolicy ?? 'IfNotPresent',
      leaseDurationSeconds: options.leaseDurationSeconds ?? 30,
      reapOnStart: options.reapOnStart ?? true,
      log: options.log ?? stderrLog,
    };
    const access = options.access ?? 'auto';
    this.#access = access === 'auto' ? (runsInPod() ? 'pod-ip' : 'port-forward') : access;
    this.namespace =
      options.namespace ??
      this.#cluster().config.getContextObject(this.#cluster().config.currentContext)?.namespace ??
      'default';
  }

  /** Resolves once the API server answers and the namespace exists; fails with KUBERNETES_UNAVAILABLE. */
  async connect(): Promise<void> {
    await checkCluster(this.#cluster(), this.namespace, this.#options);
  }

  /** How the invoke port is reached (after `auto` was decided). */
  get access(): 'port-forward' | 'pod-ip' {
    return this.#access;
  }

  #cluster(): ClusterClient {
    this.#client ??= clusterClient({ kubeconfig: this.#options.kubeconfig, context: this.#options.context });
    return this.#client;
  }

  /** The image of a function: its own, else the run's `images[runtime]`, else the official base image. */
  imageFor(fn: ResolvedFunction): string {
    return functionImage(fn, this.#options.images, this.#warned, (line) => this.#options.log(line));
  }

  /** Once per backend: the cluster answers, dead runs are swept, the owner Lease is taken. */
  #prepareSession(): Promise<V1OwnerReference> {
    this.#ready ??= (async () => {
      const client = this.#cluster();
      await checkCluster(client, this.namespace, this.#options);
      if (this.#options.reapOnStart) {
        try {
          const reaped = await this.reapStaleObjects();
          if (reaped.pods.length + reaped.configMaps.length > 0) {
            this.#options.log(
              `removed ${reaped.pods.length} Pod(s) and ${reaped.configMaps.length} ConfigMap(s) left in ` +
                `namespace ${this.namespace} by earlier runs that are gone`,
            );
          }
        } catch (error) {
          this.#options.log(`could not sweep what earlier runs left: ${message(error)}`);
        }
      }
      this.#lease = new OwnerLease({
        client,
        namespace: this.namespace,
        session: this.session,
        durationSeconds: this.#options.leaseDurationSeconds,
      });
      try {
        return await this.#lease.acquire();
      } catch (cause) {
        throw this.#apiError(`could not create the owner Lease ${this.#lease.name}`, cause);
      }
    })().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  #apiError(what: string, cause: unknown): BackendError {
    const status = statusOf(cause);
    const hint =
      status === 403 ? ' The account lacks a permission of the Role in docs/kubernetes.md ("RBAC").' : '';
    return new BackendError(
      ErrorCodes.LAUNCH_FAILED,
      `Kubernetes (namespace ${this.namespace}): ${what}: ${message(cause)}.${hint}`,
      { cause, details: { namespace: this.namespace, status } },
    );
  }

  #baseLabels(role: 'instance' | 'payload'): Record<string, string> {
    return {
      [KubernetesLabels.library]: LIBRARY_NAME,
      [KubernetesLabels.session]: this.session,
      [KubernetesLabels.role]: role,
    };
  }

  /** The code ConfigMaps of a function's code+layers, created once per content and shared by its Pods. */
  #payloadFor(fn: ResolvedFunction, owner: V1OwnerReference): Promise<PayloadRef> {
    const hash = payloadHash(fn);
    let pending = this.#payloads.get(hash);
    if (!pending) {
      pending = (async () => {
        const prefix = `lambda-testkit-code-${hash.slice(0, 12)}-${this.session.slice(-10)}`;
        const payload = await buildCodePayload(fn, prefix);
        const maps = payloadConfigMaps(payload, {
          labels: this.#baseLabels('payload'),
          annotations: {
            [KubernetesLabels.version]: LIBRARY_VERSION,
            'dev.lambda-testkit.payload-hash': hash,
          },
          ownerReferences: [owner],
        });
        const created: string[] = [];
        try {
          for (const body of maps) {
            await this.#cluster().core.createNamespacedConfigMap({ namespace: this.namespace, body });
            created.push(body.metadata?.name ?? '');
          }
        } catch (cause) {
          await this.#deleteConfigMaps(created);
          throw this.#apiError(
            `could not store the code of "${fn.name}" (${payload.bytes} bytes) in ConfigMaps`,
            cause,
          );
        }
        return { payload, names: created };
      })().catch((error: unknown) => {
        this.#payloads.delete(hash);
        throw error;
      });
      this.#payloads.set(hash, pending);
    }
    return pending;
  }

  async #deleteConfigMaps(names: readonly string[]): Promise<void> {
    await Promise.all(
      names.map((name) =>
        this.#cluster()
          .core.deleteNamespacedConfigMap({ name, namespace: this.namespace })
          .catch((error: unknown) => {
            if (statusOf(error) !== 404) throw error;
          }),
      ),
    );
  }

  async launch(fn: ResolvedFunction, context: LaunchContext): Promise<LaunchedInstance<KubernetesInstance>> {
    if (this.#closed) {
      throw new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `Cannot launch "${fn.name}": this Kubernetes backend was closed. Create a new KubernetesBackend.`,
      );
    }
    refuseDebug(fn);
    const owner = await this.#prepareSession();
    const image = this.imageFor(fn);
    const { payload } = await this.#payloadFor(fn, owner);
    context.signal?.throwIfAborted();

    const podName = objectName('lambda-testkit', fn.name, randomBytes(4).toString('hex'));
    const environment: Record<string, string> = {
      ...sandboxEnvironment(fn, context),
      // Read by lambda-testkit's emulator (local image) to act as this runtime; RIE ignores it.
      LAMBDA_TESTKIT_RUNTIME: fn.runtime,
      // The pool's prewarm: lambda-testkit's emulator runs the init before its endpoint answers
      // (docs/emulator.md#init-ahead); RIE ignores it.
      ...(context.initAhead ? { LAMBDA_TESTKIT_INIT_AHEAD: '1' } : {}),
    };
    // Set, it would make /lambda-entrypoint.sh skip the emulator and exec the runtime directly.
    delete environment.AWS_LAMBDA_RUNTIME_API;
    const identity = {
      [KubernetesLabels.runId]: context.runId,
      [KubernetesLabels.instanceId]: context.instanceId,
      [KubernetesLabels.functionName]: fn.name,
      [KubernetesLabels.deployId]: fn.deployId,
    };
    const pod = instancePod({
      name: podName,
      image,
      handler: fn.handler,
      environment,
      memorySizeMb: fn.memorySize,
      cpuRequest: this.#options.cpuRequest,
      labels: {
        ...this.#baseLabels('instance'),
        [KubernetesLabels.version]: labelValue(LIBRARY_VERSION),
        ...Object.fromEntries(Object.entries(identity).map(([k, v]) => [k, labelValue(v)])),
      },
      annotations: {
        ...identity,
        [KubernetesLabels.version]: LIBRARY_VERSION,
        [KubernetesLabels.ownerHost]: hostname(),
        [KubernetesLabels.ownerPid]: String(process.pid),
      },
      ownerReferences: [owner],
      payload: payloadVolume(payload, 'code'),
      imagePullPolicy: this.#options.imagePullPolicy,
    });

    const core = this.#cluster().core;
    try {
      await core.createNamespacedPod({ namespace: this.namespace, body: pod });
    } catch (cause) {
      throw this.#apiError(`could not create the Pod of "${fn.name}"`, cause);
    }
    const instance: KubernetesInstance = { podName, namespace: this.namespace, image, functionName: fn.name };
    const state: InstanceState = { logs: new LineLog() };
    this.#instances.set(instance, state);
    try {
      const endpoint = await this.#waitUntilServing(instance, state, fn, context.signal);
      if (context.signal?.aborted || this.#closed) {
        throw new BackendError(
          ErrorCodes.LAUNCH_FAILED,
          `The launch of "${fn.name}" was cancelled (the pool stopped).`,
        );
      }
      return { endpoint, handle: instance };
    } catch (error) {
      await this.terminate(instance).catch(() => {});
      throw error;
    }
  }

  /** Waits for the Pod to run and its invoke endpoint to answer; follows its log from then on. */
  async #waitUntilServing(
    instance: KubernetesInstance,
    state: InstanceState,
    fn: ResolvedFunction,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const deadline = Date.now() + this.#options.startupTimeoutMs;
    const core = this.#cluster().core;
    let pod: V1Pod | undefined;
    let endpoint: string | undefined;
    let host = '';
    let port = 0;
    while (Date.now() < deadline) {
      signal?.throwIfAborted();
      if (this.#closed) break;
      if (!endpoint) {
        pod = await core.readNamespacedPod({ name: instance.podName, namespace: this.namespace });
        const failure = await this.#startFailure(pod, fn, instance);
        if (failure) throw failure;
        const running = pod.status?.containerStatuses?.find((c) => c.name === RUNTIME_CONTAINER)?.state
          ?.running;
        if (running && pod.status?.podIP) {
          if (this.#access === 'pod-ip') {
            host = pod.status.podIP;
            port = INVOKE_PORT;
          } else {
            state.forward = await forwardPodPort(
              this.#cluster().config,
              this.namespace,
              instance.podName,
              INVOKE_PORT,
            );
            host = '127.0.0.1';
            port = state.forward.port;
          }
          endpoint = `http://${host}:${port}`;
          await this.#followLogs(instance, state);
        }
      }
      if (endpoint && (await probeHttp(host, port, Math.max(1, Math.min(2_000, deadline - Date.now()))))) {
        return endpoint;
      }
      if (endpoint) {
        // Running but not answering yet; a runtime that died in the meantime fails the launch now.
        pod = await core.readNamespacedPod({ name: instance.podName, namespace: this.namespace });
        const failure = await this.#startFailure(pod, fn, instance);
        if (failure) throw failure;
      }
      await sleep(POLL_MS);
    }
    throw new BackendError(
      ErrorCodes.LAUNCH_FAILED,
      `The Pod ${instance.podName} of "${fn.name}" (image ${instance.image}) did not answer on its invoke port ` +
        `within ${this.#options.startupTimeoutMs} ms (phase ${pod?.status?.phase ?? 'unknown'}` +
        `${this.#waitingReason(pod)}). Raise startupTimeoutMs if the image is still being pulled.`,
      { details: { pod: instance.podName, namespace: this.namespace } },
    );
  }

  #waitingReason(pod: V1Pod | undefined): string {
    const statuses = [
      ...(pod?.status?.initContainerStatuses ?? []),
      ...(pod?.status?.containerStatuses ?? []),
    ];
    const waiting = statuses.map((s) => s.state?.waiting).find((w) => w?.reason);
    return waiting ? `, ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` : '';
  }

  /** A BackendError when the Pod can no longer start (code install failed, image missing, exited). */
  async #startFailure(
    pod: V1Pod,
    fn: ResolvedFunction,
    instance: KubernetesInstance,
  ): Promise<BackendError | undefined> {
    const status = pod.status;
    const details = { pod: instance.podName, namespace: this.namespace, image: instance.image };
    for (const s of [...(status?.initContainerStatuses ?? []), ...(status?.containerStatuses ?? [])]) {
      const waiting = s.state?.waiting;
      if (waiting?.reason && STUCK_REASONS.has(waiting.reason)) {
        const image = /Image|Pull/.test(waiting.reason);
        return new BackendError(
          image ? ErrorCodes.IMAGE_UNAVAILABLE : ErrorCodes.LAUNCH_FAILED,
          `The Pod of "${fn.name}" cannot start: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}. ` +
            (image
              ? `The cluster's nodes could not get the image ${instance.image}: make it pullable there, or load it ` +
                "into the nodes and point images (or the function's image) at it."
              : ''),
          { details },
        );
      }
      const terminated = s.state?.terminated;
      const failedInit = s.name === INSTALL_CONTAINER && terminated && terminated.exitCode !== 0;
      const endedRuntime = s.name === RUNTIME_CONTAINER && terminated;
      if (failedInit || endedRuntime) {
        const tail = await this.#tail(instance.podName, s.name);
        const what =
          s.name === INSTALL_CONTAINER
            ? 'installing its code (init container) failed'
            : 'its runtime container exited while starting';
        return new BackendError(
          ErrorCodes.LAUNCH_FAILED,
          `The Pod of "${fn.name}" did not start: ${what} (code ${terminated?.exitCode}` +
            `${terminated?.reason ? `, ${terminated.reason}` : ''}).${tail ? `\nLast lines of its output:\n  ${tail}` : ''}`,
          { details: { ...details, exitCode: terminated?.exitCode } },
        );
      }
    }
    if (status?.phase === 'Failed' || status?.phase === 'Succeeded') {
      return new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `The Pod of "${fn.name}" ended (${status.phase}${status.reason ? `, ${status.reason}` : ''}) while starting.`,
        { details },
      );
    }
    return undefined;
  }

  async #tail(podName: string, container: string): Promise<string> {
    try {
      const text = await this.#cluster().core.readNamespacedPodLog({
        name: podName,
        namespace: this.namespace,
        container,
        tailLines: TAIL_LINES,
      });
      return text.trim().split('\n').join('\n  ');
    } catch {
      return '';
    }
  }

  /** Streams the runtime container's output into the instance's LineLog (START … REPORT per invoke). */
  async #followLogs(instance: KubernetesInstance, state: InstanceState): Promise<void> {
    try {
      state.logStream = await followLogs(
        this.#cluster().config,
        { namespace: this.namespace, pod: instance.podName, container: RUNTIME_CONTAINER },
        (chunk) => state.logs.write(chunk),
        () => state.logs.end(),
      );
    } catch (error) {
      this.#options.log(`could not follow the log of Pod ${instance.podName}: ${message(error)}`);
    }
  }

  logs(handle: KubernetesInstance): InstanceLogs | undefined {
    return this.#instances.get(handle)?.logs;
  }

  /** Deletes the Pod and waits until it is gone. Idempotent; a Pod already gone is fine. */
  terminate(handle: KubernetesInstance): Promise<void> {
    return stopOnce(this.#instances, handle, async (state) => {
      try {
        await state.forward?.close();
        await this.#deletePod(handle.podName);
      } finally {
        state.logStream?.stop();
        state.logs.end();
      }
    });
  }

  async #deletePod(name: string): Promise<void> {
    const core = this.#cluster().core;
    try {
      await core.deleteNamespacedPod({ name, namespace: this.namespace, gracePeriodSeconds: 0 });
    } catch (error) {
      if (statusOf(error) === 404) return;
      if (!isTestkitError(error)) throw this.#apiError(`could not delete the Pod ${name}`, error);
    }
    // The API keeps the object until the kubelet has stopped its containers: wait for that, bounded.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        await core.readNamespacedPod({ name, namespace: this.namespace });
      } catch (error) {
        if (statusOf(error) === 404) return;
      }
      await sleep(POLL_MS * 2);
    }
  }

  /** Deletes what dead sessions left in the namespace; resolves with how many Pods. */
  async reapStale(): Promise<number> {
    return (await this.reapStaleObjects()).pods.length;
  }

  /** The sweep with its full result (Pods, ConfigMaps, Leases of dead sessions). */
  reapStaleObjects(options: { all?: boolean } = {}): Promise<ReapedKubernetes> {
    return reapStaleObjects({
      client: this.#cluster(),
      namespace: this.namespace,
      all: options.all,
      keep: options.all ? [] : [this.session],
    });
  }

  /** Deletes every Pod and ConfigMap this backend created, then its Lease. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#instances.keys()].map((handle) => this.terminate(handle)));
    const payloads = await Promise.allSettled([...this.#payloads.values()]);
    this.#payloads.clear();
    await this.#deleteConfigMaps(payloads.flatMap((p) => (p.status === 'fulfilled' ? p.value.names : [])));
    const ready = this.#ready;
    this.#ready = undefined;
    if (ready) await ready.catch(() => undefined);
    await this.#lease?.release();
    this.#lease = undefined;
  }

  /** `await using backend = new KubernetesBackend(…)`: close() at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The Pods this backend currently runs (for tests and diagnostics). */
  instances(): KubernetesInstance[] {
    return [...this.#instances.keys()];
  }

  /** Label selector of everything this backend created. */
  get selector(): string {
    return selector({ [KubernetesLabels.session]: this.session });
  }
}

/**
 * `debug` is not offered on Kubernetes: the inspector would need a port-forward of its own per Pod,
 * and the Pod's emulator the attach-aware timeout; a debugged function would otherwise run without
 * its inspector, silently. Refused before the cluster is asked anything.
 */
function refuseDebug(fn: ResolvedFunction): void {
  if (!fn.debug) return;
  throw new ConfigError(
    ErrorCodes.DEBUG_UNSUPPORTED,
    `Function "${fn.name}" has debug on, but the Kubernetes backend cannot attach a debugger to a Pod. ` +
      "Debug it on the process or Docker backend (LAMBDA_TESTKIT_BACKEND=process or docker, or backend: 'process' | 'docker'), " +
      'or turn debug off for this run (remove "debug" or the name from LAMBDA_TESTKIT_DEBUG).',
    { details: { function: fn.name, backend: 'kubernetes' } },
  );
}
