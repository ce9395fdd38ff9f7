/**
 * DockerBackend: each Lambda instance is a container of the runtime's base image (AWS's RIE on
 * :8080 inside), created and started through the engine client Testcontainers connects (its Ryuk
 * removes what a dead run leaves). The pool stays outside: this only launches,
 * terminates, follows logs and sweeps leftovers.
 */
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { type ContainerRuntimeClient, getReaper, LABEL_TESTCONTAINERS_SESSION_ID } from 'testcontainers';
import type {
  BackendWiring,
  LambdaBackend,
  LaunchContext,
  LaunchedInstance,
  PrepareProgress,
  WiredHost,
} from '../../backend.ts';
import { CONTAINER_INSPECTOR_PORT, invokeTimeoutSeconds, withInspectorOption } from '../../debug.ts';
import { INIT_AHEAD_VARIABLE } from '../../emulator/config.ts';
import { INVOKE_SECRET_VARIABLE, inspectEnvironment } from '../../emulator/protocol.ts';
import { BackendError, ConfigError, ErrorCodes, isTestkitError } from '../../errors.ts';
import type { ResolvedFunction } from '../../function-spec.ts';
import { type InstanceLogs, LineLog } from '../../instance-logs.ts';
import { stderrLog } from '../../log.ts';
import { sandboxEnvironment } from '../../sandbox-env.ts';
import { DOCKER_HOST_ALIAS } from '../../sandbox-wiring.ts';
import { announceDebugger } from '../shared/debugger-announce.ts';
import { functionImage } from '../shared/function-image.ts';
import { currentRunOwner } from '../shared/run-owner.ts';
import { stopOnce } from '../shared/stop-once.ts';
import { type CodeMount, CodeVolumes } from './code-volumes.ts';
import { connectEngine } from './engine.ts';
import { HostForwarders } from './host-forwarders.ts';
import { ensureImage } from './image-pull.ts';
import { ContainerLabels, ImageLabels, LIBRARY_NAME, LIBRARY_VERSION } from './labels.ts';
import { createLambdaContainer, startLambdaContainer } from './lambda-container.ts';
import { reapStaleContainers } from './reap-stale.ts';

/** RIE's invoke port inside the base images (docs/lambda-apis.md#base-image-contract). */
export const INVOKE_PORT = 8080;

/** Lines of a container's output kept for launch-failure messages. */
const TAIL_LINES = 20;

/**
 * The container's memory limit is the function's `memorySize` plus room for the emulator beside the
 * runtime (docs/emulator.md#memory): the emulator holds the runtime itself to `memorySize`, and the
 * kernel's OOM killer, which the emulator makes pick the runtime first, is the backstop. AWS's RIE
 * is smaller than our Node emulator, so on AWS's images the runtime has this much more.
 */
const EMULATOR_HEADROOM_MB = 96;

/** uid:gid of the function's user in the container: not root, and owning nothing but what it writes to /tmp. */
const RUNTIME_USER = '993:990';

/** `/tmp` is a tmpfs of Lambda's default ephemeral storage (512 MB). */
const EPHEMERAL_STORAGE_MB = 512;

/** How long a failed pull of an image is remembered before a launch tries it again. */
const PULL_RETRY_AFTER_MS = 30_000;

export interface DockerBackendOptions {
  /**
   * Image per runtime identifier for the whole run, e.g. `{ 'nodejs22.x': 'lambda-testkit/nodejs:24-local' }`.
   * A function's own `image` wins over this; this wins over the official base image.
   * @default {}
   */
  images?: Record<string, string>;
  /**
   * Milliseconds a started container gets to answer on its invoke port. Pulling the image is not
   * counted (it happens before, with progress).
   * @default 30000
   */
  startupTimeoutMs?: number;
  /**
   * Host interface the invoke port is published on. Keep the default unless the engine runs on
   * another machine (then `'0.0.0.0'`, and the endpoint uses the engine's host).
   * @default '127.0.0.1'
   */
  publishHost?: string;
  /**
   * Where progress lines go (image pulls, deprecation warnings, the stale-container sweep).
   * @default a line on stderr
   */
  log?: (line: string) => void;
  /**
   * Remove containers of earlier runs whose owning process is gone, before the first launch.
   * @default true
   */
  reapOnStart?: boolean;
  /**
   * Testcontainers' Ryuk (a container that removes this run's containers if the process dies):
   * `auto` uses it where it can start and goes on without it (one line) where its image cannot be
   * pulled; `required` fails the launch instead; `off` never starts it. The label sweep works in all modes.
   * @default 'auto'
   */
  ryuk?: 'auto' | 'required' | 'off';
}

/** What the pool holds for one container (opaque to it; tests may read the ids). */
export interface DockerInstance {
  readonly containerId: string;
  readonly containerName: string;
  readonly image: string;
  readonly functionName: string;
}

interface InstanceState {
  fn: ResolvedFunction;
  runId: string;
  instanceId: string;
  /** Aborted when the pool stops: a start that lands after it removes its container. */
  signal: AbortSignal | undefined;
  /** The code volumes this container mounts (released when it is removed). */
  codeKey: string;
  invokeSecret?: string;
  /** The image runs lambda-testkit's emulator (which answers for the inspector when debugging). */
  ownEmulator: boolean;
  /** `startPrepared` ran (a container starts once). */
  started?: boolean;
  logs: LineLog;
  logStream?: Readable;
  /** Stops watching for the inspector's line (debugged functions). */
  unwatch?: () => void;
  stopping?: Promise<void>;
}

/**
 * A name Docker accepts (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`) that says whose container it is. A random
 * suffix keeps it unique on an engine shared by several runs (instance ids are unique per run only).
 */
function containerName(functionName: string, instanceId: string): string {
  const fn = functionName.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 40);
  const id = instanceId.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 40);
  return `lambda-testkit-${fn}-${id}-${randomBytes(3).toString('hex')}`;
}

/**
 * Lines of a non-following `GET /containers/{id}/logs` answer. Without a TTY the engine frames each
 * write with an 8-byte header (stream type, 3 zero bytes, big-endian length: Docker Engine API,
 * "Attach to a container", stream format).
 */
export function demuxLogLines(raw: Buffer): string[] {
  const parts: Buffer[] = [];
  let offset = 0;
  while (
    offset + 8 <= raw.length &&
    raw[offset + 1] === 0 &&
    raw[offset + 2] === 0 &&
    raw[offset + 3] === 0
  ) {
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  const text = offset === 0 ? raw.toString('utf8') : Buffer.concat(parts).toString('utf8');
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter(Boolean);
}

/** The wiring in force: the network containers join and the forwarders on its gateway. */
interface WiringState {
  network: string | undefined;
  gateway: string;
  forwarders: HostForwarders;
}

/**
 * The IPv4 gateway of a Docker network: the host's address on its bridge, which its containers
 * reach. A network that does not exist, or has no gateway (host, none, overlay), fails the wiring.
 */
export async function networkGateway(docker: Dockerode, network: string): Promise<string> {
  let info: {
    Driver?: string;
    IPAM?: { Config?: Array<{ Gateway?: string; Subnet?: string }> };
    Options?: Record<string, string>;
  };
  try {
    info = await docker.getNetwork(network).inspect();
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    throw new BackendError(
      ErrorCodes.WIRING_FAILED,
      status === 404
        ? `Docker network "${network}" does not exist. Create it first (docker network create, or ` +
            "Testcontainers' new Network().start() in your global setup) and pass its name or the StartedNetwork as `network`."
        : `Could not inspect Docker network "${network}": ${error instanceof Error ? error.message : String(error)}.`,
      { cause: error, details: { network } },
    );
  }
  const ipv4 = /^\d+\.\d+\.\d+\.\d+$/;
  // The default bridge often lists no Gateway (Docker 20.10): its address is docker0's own, which
  // Node lists only while a container is attached (libuv skips interfaces without carrier), and
  // otherwise Docker's default, the subnet's first address. A wrong guess fails the forwarders' bind.
  const bridge = info.Options?.['com.docker.network.bridge.name'];
  const gateway =
    info.IPAM?.Config?.map((c) => c.Gateway).find((g) => g && ipv4.test(g)) ??
    (bridge ? networkInterfaces()[bridge]?.find((a) => a.family === 'IPv4')?.address : undefined) ??
    info.IPAM?.Config?.map((c) => firstHostOf(c.Subnet)).find((g) => g !== undefined);
  if (!gateway) {
    throw new BackendError(
      ErrorCodes.WIRING_FAILED,
      `Docker network "${network}" (driver ${info.Driver ?? 'unknown'}) shows no IPv4 gateway on this machine, so ` +
        'lambda-testkit cannot make host ports reachable from its containers. Use a bridge network of an engine on ' +
        'this machine (the default driver of docker network create), or the process backend.',
      { details: { network, driver: info.Driver } },
    );
  }
  return gateway;
}

/** The first host address of an IPv4 subnet (`172.17.0.0/16` → `172.17.0.1`), Docker's default gateway. */
export function firstHostOf(subnet: string | undefined): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(subnet ?? '');
  if (!m) return undefined;
  const hostBits = 32 - Number(m[5]);
  if (hostBits < 2 || hostBits > 32) return undefined;
  const address = m.slice(1, 5).reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const block = 2 ** hostBits;
  const first = address - (address % block) + 1;
  return [3, 2, 1, 0].map((i) => Math.floor(first / 256 ** i) % 256).join('.');
}

export class DockerBackend implements LambdaBackend<DockerInstance> {
  readonly name = 'docker';
  /** An `/etc/hosts` entry of every wired container: the gateway of its network (see `wire`). */
  readonly sandboxHost = DOCKER_HOST_ALIAS;
  readonly #options: Required<Omit<DockerBackendOptions, 'images'>> & { images: Record<string, string> };
  readonly #instances = new Map<DockerInstance, InstanceState>();
  readonly #images = new Map<string, Promise<unknown>>();
  readonly #ownEmulator = new Map<string, Promise<boolean>>();
  readonly #warned = new Set<string>();
  #client: Promise<ContainerRuntimeClient> | undefined;
  /** Resolves with Ryuk's session id (also when Ryuk is off: the label is then inert). */
  #reaper: Promise<string> | undefined;
  readonly #codeVolumes = new CodeVolumes(() => this.#docker());
  #swept: Promise<void> | undefined;
  #closed = false;
  #wiring: WiringState | undefined;

  constructor(options: DockerBackendOptions = {}) {
    this.#options = {
      images: options.images ?? {},
      startupTimeoutMs: options.startupTimeoutMs ?? 30_000,
      publishHost: options.publishHost ?? '127.0.0.1',
      log: options.log ?? stderrLog,
      reapOnStart: options.reapOnStart ?? true,
      ryuk: options.ryuk ?? 'auto',
    };
  }

  /**
   * The image a function runs in: its own `image`, else the run's `images[runtime]`, else the base
   * image. A deprecated runtime is warned about (once) whichever image replaces its base image: the
   * function still declares a runtime that AWS no longer accepts.
   */
  imageFor(fn: ResolvedFunction): string {
    return functionImage(fn, this.#options.images, this.#warned, (line) => this.#options.log(line));
  }

  /**
   * Whether an image runs lambda-testkit's emulator: the local image, or one built on it, carries
   * its builder's label. Only then does a container get an invoke secret: AWS's RIE would ignore it
   * and hand it to the handler's environment (docs/security.md#instances-and-the-runtime-api).
   */
  #runsOwnEmulator(image: string): Promise<boolean> {
    let known = this.#ownEmulator.get(image);
    if (!known) {
      known = this.#docker()
        .then((docker) => docker.getImage(image).inspect())
        .then(
          (info) => info.Config?.Labels?.[ImageLabels.builder] !== undefined,
          () => false,
        );
      this.#ownEmulator.set(image, known);
    }
    return known;
  }

  #engine(): Promise<ContainerRuntimeClient> {
    this.#client ??= connectEngine().catch((error: unknown) => {
      this.#client = undefined;
      throw error;
    });
    return this.#client;
  }

  async #docker(): Promise<Dockerode> {
    return (await this.#engine()).container.dockerode;
  }

  /**
   * Pulls each image at most once per backend. A pull that failed (no registry, unknown image) is
   * remembered for PULL_RETRY_AFTER_MS: every launch of that image in the meantime fails at once
   * with the same error instead of paying the registry's timeout again, and a watch rerun after that
   * tries afresh. Other failures (the engine did not answer) are not remembered.
   */
  #ensureImage(image: string, onProgress: (p: PrepareProgress) => void): Promise<unknown> {
    let pending = this.#images.get(image);
    if (!pending) {
      const attempt: Promise<unknown> = this.#docker()
        .then((docker) => ensureImage(docker, image, onProgress))
        .catch((error: unknown) => {
          const forget = () => {
            if (this.#images.get(image) === attempt) this.#images.delete(image);
          };
          if (isTestkitError(error, ErrorCodes.IMAGE_UNAVAILABLE)) {
            setTimeout(forget, PULL_RETRY_AFTER_MS).unref();
          } else {
            forget();
          }
          throw error;
        });
      pending = attempt;
      this.#images.set(image, pending);
    }
    return pending;
  }

  async prepare(fn: ResolvedFunction, onProgress?: (p: PrepareProgress) => void): Promise<void> {
    await this.#ensureImage(this.imageFor(fn), onProgress ?? ((p) => this.#options.log(p.message)));
  }

  /**
   * Testcontainers' Ryuk removes this session's containers if this process dies. It runs from an
   * image (testcontainers/ryuk) that must be pulled, which air-gapped CI cannot do. In `auto` mode
   * the run goes on without it (one line says so): the label sweep on the next start and
   * `lambda-testkit clean` still remove what a crashed run leaves.
   */
  #ensureReaper(client: ContainerRuntimeClient): Promise<string> {
    this.#reaper ??= (async () => {
      if (this.#options.ryuk === 'off') process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
      try {
        return (await getReaper(client)).sessionId;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        if (this.#options.ryuk === 'required') {
          throw new BackendError(
            ErrorCodes.LAUNCH_FAILED,
            `Testcontainers could not start Ryuk, its clean-up container (${reason}). Where its image cannot be ` +
              "pulled, use the DockerBackend option ryuk: 'auto' or set TESTCONTAINERS_RYUK_DISABLED=true: " +
              'lambda-testkit still removes the containers of a crashed run on the next start, and ' +
              '`lambda-testkit clean` does it by hand.',
            { cause: error },
          );
        }
        this.#options.log(
          `Ryuk (Testcontainers' clean-up container) could not start (${reason}); going on without it: ` +
            'containers of a crashed run are removed by the next run, or by `lambda-testkit clean`.',
        );
      }
      // Testcontainers reads this when it next looks for its reaper (reaper.js getReaper), which a
      // failed start left unset: every container of this process then starts without Ryuk.
      process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
      return (await getReaper(client)).sessionId;
    })().catch((error: unknown) => {
      this.#reaper = undefined;
      throw error;
    });
    return this.#reaper;
  }

  /**
   * Containers launched from now on join `wiring.network` (else the engine's default bridge) and
   * resolve `host.lambda-testkit.internal` to that network's gateway, where one forwarder per
   * `hostPorts` entry pipes to 127.0.0.1:<port> (host-forwarders.ts). Called again, it moves to the
   * new wiring: forwarders of ports no longer declared close.
   */
  async wire(wiring: BackendWiring): Promise<WiredHost | undefined> {
    const docker = await this.#docker();
    const network = wiring.network;
    let gateway: string;
    try {
      gateway = await networkGateway(docker, network ?? 'bridge');
    } catch (error) {
      // Nothing declared: a run without wiring must not fail for it (the host name then resolves
      // to nothing, and nothing of the host would be reachable anyway).
      if (network !== undefined || wiring.hostPorts.length > 0) throw error;
      await this.#wiring?.forwarders.close();
      this.#wiring = undefined;
      return undefined;
    }
    if (this.#wiring && this.#wiring.gateway !== gateway) await this.#wiring.forwarders.close();
    const forwarders =
      this.#wiring?.gateway === gateway ? this.#wiring.forwarders : new HostForwarders(gateway);
    this.#wiring = { network, gateway, forwarders };
    const statuses = await forwarders.set(wiring.hostPorts);
    const shared = statuses.filter((s) => s.state === 'shared').map((s) => s.port);
    if (shared.length > 0) {
      this.#options.log(
        `host port(s) ${shared.join(', ')} are already taken on ${gateway} (a server listening on every ` +
          'interface, or another run forwarding them): containers reach whatever listens there.',
      );
    }
    return { address: gateway };
  }

  async launch(fn: ResolvedFunction, context: LaunchContext): Promise<LaunchedInstance<DockerInstance>> {
    return this.startPrepared(await this.prepareInstance(fn, context));
  }

  /**
   * Creates the container of one instance, with its code mounted read-only, and does not start it
   * (`startPrepared` does). What `launch` does first; the pool calls it ahead of need for its
   * `spareInstances`. Until it starts, the container uses no memory or CPU.
   */
  async prepareInstance(fn: ResolvedFunction, context: LaunchContext): Promise<DockerInstance> {
    this.#assertOpen(fn);
    const client = await this.#engine();
    if (this.#options.reapOnStart) {
      this.#swept ??= this.reapStale().then(
        (n) => {
          if (n > 0)
            this.#options.log(`removed ${n} container(s) left by earlier runs whose process is gone`);
        },
        (error: unknown) => this.#options.log(`could not sweep stale containers: ${String(error)}`),
      );
      await this.#swept;
    }
    const image = this.imageFor(fn);
    await this.#ensureImage(image, (p) => this.#options.log(p.message));
    const sessionId = await this.#ensureReaper(client);
    context.signal?.throwIfAborted();

    const owner = currentRunOwner();
    const runLabels: Record<string, string> = {
      [ContainerLabels.library]: LIBRARY_NAME,
      [ContainerLabels.version]: LIBRARY_VERSION,
      [ContainerLabels.runId]: context.runId,
      [ContainerLabels.functionName]: fn.name,
      [ContainerLabels.deployId]: fn.deployId,
      [ContainerLabels.ownerPid]: String(owner.pid),
      [ContainerLabels.ownerStartTime]: owner.startTime ?? '',
      [ContainerLabels.ownerHost]: owner.hostname,
      [ContainerLabels.ownerBootId]: owner.bootId ?? '',
      // Ryuk removes what carries its session's label (containers and volumes) when this process dies.
      [LABEL_TESTCONTAINERS_SESSION_ID]: sessionId,
    };
    const labels = { ...runLabels, [ContainerLabels.instanceId]: context.instanceId };
    const environment: Record<string, string> = {
      ...sandboxEnvironment(fn, context),
      // Read by lambda-testkit's emulator (local image) to act as this runtime; RIE ignores it.
      LAMBDA_TESTKIT_RUNTIME: fn.runtime,
      // Our emulator (local image) runs the runtime as this unprivileged user, as Lambda runs function
      // code: only /tmp is writable to it (docs/emulator.md#file-system). RIE ignores it.
      LAMBDA_TESTKIT_RUNTIME_USER: RUNTIME_USER,
    };
    // Set, it would make /lambda-entrypoint.sh skip the emulator (RIE) and exec the runtime
    // directly, which then has no Runtime API to talk to (docs/lambda-apis.md#base-image-contract).
    delete environment.AWS_LAMBDA_RUNTIME_API;
    const exposed = [INVOKE_PORT];
    const ownEmulator = await this.#runsOwnEmulator(image);
    if (fn.debug) {
      this.#checkDebugPublishHost(fn);
      // Inside the container the inspector's address listens on every interface, so that the
      // published port reaches it.
      const address = `0.0.0.0:${CONTAINER_INSPECTOR_PORT}`;
      if (ownEmulator) {
        // lambda-testkit's emulator listens there and proxies to the runtime's inspector, holding the
        // function timeout while a debugger is attached.
        Object.assign(environment, inspectEnvironment(address, fn.debug));
      } else {
        // The AWS base image's /var/runtime/bootstrap runs node, which reads NODE_OPTIONS (RIE, in Go,
        // does not). RIE cannot tell a debugger is attached: its timeout is lifted while debug is on.
        environment.NODE_OPTIONS = withInspectorOption(environment.NODE_OPTIONS, address, fn.debug);
        environment.AWS_LAMBDA_FUNCTION_TIMEOUT = String(invokeTimeoutSeconds(fn));
      }
      exposed.push(CONTAINER_INSPECTOR_PORT);
    }
    // The pool's prewarm: our emulator runs the init before its endpoint answers. AWS's RIE cannot
    // run an init without an invoke: there, prewarm saves the container start only (docs/emulator.md#init-ahead).
    if (ownEmulator && context.initAhead) environment[INIT_AHEAD_VARIABLE] = '1';
    // Our emulator then answers only the pool, also to other containers that reach :8080 directly.
    const invokeSecret = ownEmulator ? randomBytes(32).toString('base64url') : undefined;
    if (invokeSecret) environment[INVOKE_SECRET_VARIABLE] = invokeSecret;

    const name = containerName(fn.name, context.instanceId);
    const docker = client.container.dockerode;
    let code: { key: string; mounts: CodeMount[] };
    try {
      code = await this.#codeVolumes.acquire(fn, image, runLabels);
    } catch (error) {
      throw this.#launchError(fn, image, name, error, '');
    }
    let containerId: string;
    try {
      containerId = await createLambdaContainer(docker, {
        image,
        name,
        command: [fn.handler],
        environment,
        labels,
        exposedPorts: exposed,
        hostIp: this.#options.publishHost,
        limits: { memoryMiB: fn.memorySize + EMULATOR_HEADROOM_MB },
        tmpMiB: fn.ephemeralStorage ?? EPHEMERAL_STORAGE_MB,
        mounts: code.mounts,
        ...(this.#wiring?.network ? { network: this.#wiring.network } : {}),
        ...(this.#wiring ? { extraHosts: [`${DOCKER_HOST_ALIAS}:${this.#wiring.gateway}`] } : {}),
      });
    } catch (error) {
      this.#codeVolumes.release(code.key);
      const reason = error instanceof Error ? error.message : String(error);
      throw this.#launchError(
        fn,
        image,
        name,
        error,
        await this.#postmortem(context.runId, context.instanceId, reason),
      );
    }
    const instance: DockerInstance = { containerId, containerName: name, image, functionName: fn.name };
    this.#instances.set(instance, {
      logs: new LineLog(),
      fn,
      runId: context.runId,
      instanceId: context.instanceId,
      signal: context.signal,
      codeKey: code.key,
      ownEmulator,
      ...(invokeSecret ? { invokeSecret } : {}),
    });
    if (this.#closed) {
      await this.terminate(instance);
      this.#assertOpen(fn);
    }
    return instance;
  }

  /**
   * Starts a container `prepareInstance` created and resolves once its invoke endpoint answers. A
   * failed start removes the container and says why (its exit code and last lines).
   */
  async startPrepared(instance: DockerInstance): Promise<LaunchedInstance<DockerInstance>> {
    const state = this.#instances.get(instance);
    if (!state || state.stopping) {
      throw new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `The prepared container of "${instance.functionName}" was removed before its start.`,
        { details: { containerName: instance.containerName } },
      );
    }
    if (state.started) {
      throw new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `The container ${instance.containerName} of "${instance.functionName}" was already started.`,
      );
    }
    state.started = true;
    const { fn, logs } = state;
    const client = await this.#engine();
    const tail: string[] = [];
    const host =
      this.#options.publishHost === '0.0.0.0' ? client.info.containerRuntime.host : this.#options.publishHost;

    // The engine picks the inspector's host port, so instances never clash; read once started.
    let inspectorHostPort: number | undefined;
    state.unwatch = announceDebugger(logs, {
      fn,
      from: state.ownEmulator ? 'emulator' : 'runtime',
      instanceId: state.instanceId,
      log: this.#options.log,
      toHost: (inside) => {
        if (inspectorHostPort === undefined) {
          // The runtime starts on the first invoke, after the start: an inspector this early is the
          // image's own Node emulator, which took NODE_OPTIONS meant for the runtime.
          this.#options.log(
            `debug: a Node process of "${fn.name}"'s image took the inspector before the runtime started ` +
              "(its entrypoint passes NODE_OPTIONS to its emulator). Use an AWS base image or lambda-testkit's local image.",
          );
          return undefined;
        }
        const url = new URL(inside.href);
        url.hostname = host;
        url.port = String(inspectorHostPort);
        return url;
      },
    });
    let ports: Map<number, number>;
    try {
      ports = await startLambdaContainer(client.container.dockerode, instance.containerId, {
        host,
        invokePort: INVOKE_PORT,
        startupTimeoutMs: this.#options.startupTimeoutMs,
        onLogs: (stream) => {
          state.logStream = stream;
          stream.on('data', (chunk: string | Buffer) => {
            logs.write(chunk);
            for (const line of chunk.toString().split('\n')) if (line) tail.push(line);
            if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
          });
          stream.on('end', () => logs.end());
          stream.on('error', () => logs.end());
        },
      });
      if (fn.debug) inspectorHostPort = ports.get(CONTAINER_INSPECTOR_PORT);
    } catch (error) {
      state.unwatch?.();
      state.logStream?.destroy();
      const reason = error instanceof Error ? error.message : String(error);
      const postmortem = await this.#postmortem(state.runId, state.instanceId, reason);
      const output = postmortem
        ? `\n${postmortem}`
        : tail.length
          ? `\nLast lines of its output:\n  ${tail.join('\n  ')}`
          : '';
      await this.terminate(instance).catch(() => {});
      throw this.#launchError(fn, instance.image, instance.containerName, error, output);
    }
    if (state.signal?.aborted || this.#closed) {
      await this.terminate(instance);
      throw new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `The launch of "${fn.name}" was cancelled (the pool stopped).`,
      );
    }
    return {
      endpoint: `http://${host}:${ports.get(INVOKE_PORT)}`,
      handle: instance,
      ...(state.invokeSecret ? { invokeSecret: state.invokeSecret } : {}),
    };
  }

  #assertOpen(fn: ResolvedFunction): void {
    if (this.#closed) {
      throw new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `Cannot launch "${fn.name}": this Docker backend was closed. Create a new DockerBackend.`,
      );
    }
  }

  #launchError(
    fn: ResolvedFunction,
    image: string,
    name: string,
    error: unknown,
    output: string,
  ): BackendError {
    const reason = error instanceof Error ? error.message : String(error);
    const separator = output && !output.startsWith('\n') ? '\n' : '';
    return new BackendError(
      ErrorCodes.LAUNCH_FAILED,
      `Could not start a container of "${image}" for function "${fn.name}": ${reason}${separator}${output}`,
      { cause: error, details: { function: fn.name, image, containerName: name } },
    );
  }

  /**
   * After a failed create or start: what the container said and how it ended, then its removal (the
   * caller's terminate then finds it gone). `reason` is the error already in hand: its exit code is
   * not said twice.
   */
  async #postmortem(runId: string, instanceId: string, reason: string): Promise<string> {
    const notes: string[] = [];
    try {
      const docker = await this.#docker();
      const found = await docker.listContainers({
        all: true,
        filters: {
          label: [`${ContainerLabels.runId}=${runId}`, `${ContainerLabels.instanceId}=${instanceId}`],
        },
      });
      for (const c of found) {
        const container = docker.getContainer(c.Id);
        const state = (await container.inspect().catch(() => undefined))?.State;
        if (state && !state.Running && state.Status === 'exited' && !reason.includes('exited (code'))
          notes.push(`The container exited (code ${state.ExitCode}).`);
        if (state?.Error) notes.push(`The engine said: ${state.Error}`);
        const raw = await container
          .logs({ stdout: true, stderr: true, tail: TAIL_LINES })
          .catch(() => undefined);
        const lines = raw ? demuxLogLines(raw) : [];
        if (lines.length) notes.push(`Last lines of its output:\n  ${lines.join('\n  ')}`);
        await container.remove({ force: true, v: true }).catch(() => {});
        await untilRemoved(container);
      }
    } catch {
      // Best effort: the sweep of a later run removes a leftover once this process is gone.
    }
    return notes.join('\n');
  }

  logs(handle: DockerInstance): InstanceLogs | undefined {
    return this.#instances.get(handle)?.logs;
  }

  /** Kills and removes the container (one API call). Idempotent; a container already gone is fine. */
  terminate(handle: DockerInstance): Promise<void> {
    return stopOnce(this.#instances, handle, async (state) => {
      try {
        const docker = await this.#docker();
        await docker.getContainer(handle.containerId).remove({ force: true, v: true });
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        // 404: already removed; 409: a removal is already in progress (docker kill + AutoRemove, or a sweep).
        if (status !== 404 && status !== 409 && !isTestkitError(error)) throw error;
      } finally {
        state.unwatch?.();
        state.logStream?.destroy();
        state.logs.end();
        this.#codeVolumes.release(state.codeKey);
      }
    });
  }

  /**
   * The inspector runs any code a debugger sends it: its port is published on the loopback
   * interface only, which a `publishHost` of another interface would not keep.
   */
  #checkDebugPublishHost(fn: ResolvedFunction): void {
    const publishHost = this.#options.publishHost;
    if (publishHost === '127.0.0.1' || publishHost === '::1' || publishHost === 'localhost') return;
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `Function "${fn.name}" has debug on, but this Docker backend publishes ports on ${publishHost}: ` +
        "the Node inspector would be reachable from the network. Use publishHost '127.0.0.1' to debug, or turn debug off.",
      { details: { function: fn.name, publishHost } },
    );
  }

  /** Removes containers of runs whose owning process is gone; resolves with how many. */
  async reapStale(): Promise<number> {
    const removed = await reapStaleContainers({ docker: await this.#docker() });
    return removed.length;
  }

  /**
   * Terminates every container this backend created (started or prepared), in parallel, then removes
   * the code volumes. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#instances.keys()].map((handle) => this.terminate(handle)));
    await this.#codeVolumes.removeAll();
    await this.#wiring?.forwarders.close();
  }

  /** The code volumes in use (for tests and diagnostics). */
  codeVolumes(): string[] {
    return this.#codeVolumes.volumes();
  }

  /** The wiring in force (for tests and diagnostics): network, gateway and forwarded ports. */
  wiring(): { network: string | undefined; gateway: string; hostPorts: number[] } | undefined {
    const w = this.#wiring;
    return w && { network: w.network, gateway: w.gateway, hostPorts: w.forwarders.ports() };
  }

  /** `await using backend = new DockerBackend()` closes it (every container it started) at scope end. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The containers this backend currently holds, started or prepared (for tests and diagnostics). */
  instances(): DockerInstance[] {
    return [...this.#instances.keys()];
  }
}

/**
 * Resolves once the engine no longer knows the container, or after `limitMs`. A removal can already
 * be under way when ours is asked (409: a terminate or a sweep got there first),
 * and a launch failure must not be reported while its container is still "Removal In Progress" (seen
 * in the Docker suite on a loaded engine: the container was listed in that state after the launch
 * had failed).
 */
async function untilRemoved(container: Dockerode.Container, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const gone = await container.inspect().then(
      () => false,
      (error: { statusCode?: number }) => error.statusCode === 404,
    );
    if (gone) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
