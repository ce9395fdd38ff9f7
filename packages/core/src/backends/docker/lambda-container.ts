/**
 * A Lambda container in two steps, through the engine's API (dockerode): `createLambdaContainer`
 * (the container with its sandbox bounds, its code mounted, not started) and `startLambdaContainer`
 * (start, the published port, the invoke endpoint answering). A launch does both at once; a prepared
 * instance was created ahead of need and only pays the start (docs/architecture.md#prepared-instances).
 *
 * Why not Testcontainers' GenericContainer: its `start()` creates, copies and starts in one call, so
 * nothing can be created ahead. The pieces it added are here: the Ryuk session label (the caller
 * passes it), published ports on one host interface only, and the wait for the endpoint.
 *
 * Why the host interface: Docker binds a published port without `HostIp` on every interface. A
 * Lambda sandbox runs whatever code is under test, with dummy credentials, and must not be reachable
 * from the network.
 *
 * Why the exit watch while waiting for the port: the engine reports port bindings in the first
 * inspect of a running container, and never for one that has exited (Docker 20.10: `NetworkSettings.Ports`
 * stays `{}`). A container that dies at start (a broken image, a missing emulator) fails the start at
 * once, with its exit code, instead of at a deadline that hides the reason.
 */
import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { BackendError, ErrorCodes } from '../../errors.ts';
import { waitForInvokeEndpoint } from './endpoint-wait.ts';

/** How often a starting container's state is read while its ports are not bound yet. */
const PORT_POLL_MS = 10;

/** How long a started container may take to have its ports bound (the engine does it at start). */
const PORTS_BOUND_TIMEOUT_MS = 10_000;

/**
 * Processes and threads one sandbox may run: Lambda's own quota ("Processes and threads: 1,024",
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). A fork bomb in a handler
 * then fails inside its container instead of exhausting the machine's process table.
 */
export const SANDBOX_PIDS_LIMIT = 1024;

/** What a container may use and do, set on its HostConfig at creation. */
export interface SandboxLimits {
  /** The container's memory limit (MiB), with no swap on top. */
  memoryMiB: number;
  /** @default SANDBOX_PIDS_LIMIT */
  pidsLimit?: number;
}

/**
 * The HostConfig fields that bound a sandbox.
 *
 * - `Memory` = `MemorySwap`: no swap, as Lambda has none
 *   (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html), so a sandbox over its
 *   limit is stopped instead of growing until the host swaps. The caller sizes it (the Docker backend:
 *   `memorySize` plus room for the emulator, which holds the runtime itself to `memorySize`).
 * - `CapDrop: ALL` and back only SETUID, SETGID and KILL: in Lambda the runtime runs as an
 *   unprivileged user (the base images' `sbx_user1051`) that holds no capabilities at all
 *   (https://docs.aws.amazon.com/lambda/latest/dg/images-create.html, "Requirements": "a default Linux
 *   user with least-privileged permissions"). The emulator listens on 8080, an unprivileged port
 *   (RIE README); the code volumes and /tmp are mounted by the engine before the start. What the
 *   emulator itself still needs: the local image's emulator (root) starts the runtime as an
 *   unprivileged user (setuid, setgid) and stops, resumes and kills that user's process group (kill:
 *   the signal crosses users); AWS's RIE starts a plain child and needs none of the three. Docker's
 *   default set adds chown, dac_override, fowner, net_raw, mknod, … (https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities),
 *   which would only let code under test do what it could not do in Lambda.
 * - `no-new-privileges`: no setuid binary or file capability can raise a process's privileges
 *   (https://docs.docker.com/reference/cli/docker/container/run/#security-opt).
 */
export function sandboxHostConfig(limits: SandboxLimits) {
  const memoryBytes = Math.round(limits.memoryMiB * 1024 * 1024);
  return {
    Memory: memoryBytes,
    MemorySwap: memoryBytes,
    PidsLimit: limits.pidsLimit ?? SANDBOX_PIDS_LIMIT,
    SecurityOpt: ['no-new-privileges'],
    CapDrop: ['ALL'],
    CapAdd: ['SETUID', 'SETGID', 'KILL'],
  };
}

/** Everything a Lambda container is created with. */
export interface LambdaContainerSpec {
  image: string;
  name: string;
  /** The handler, the image entrypoint's one argument. */
  command: string[];
  environment: Record<string, string>;
  labels: Record<string, string>;
  /** Container ports to publish (each on an engine-chosen host port). */
  exposedPorts: number[];
  /** Host interface the exposed ports are published on. */
  hostIp: string;
  limits: SandboxLimits;
  /** `/tmp`'s size (MiB): Lambda's ephemeral storage. */
  tmpMiB: number;
  /** Read-only volumes holding the code and layers (code-volumes.ts). */
  mounts: Array<{ source: string; target: string }>;
  network?: string;
  extraHosts?: string[];
}

/**
 * The create request. The root file system is read-only, as Lambda's
 * (https://docs.aws.amazon.com/lambda/latest/dg/images-create.html: "The container image must be able
 * to run on a read-only file system"): only `/tmp` (a tmpfs, exec allowed: runtimes such as Java's
 * load native libraries from there) is writable. The code and layers are read-only volume mounts.
 */
export function createRequest(spec: LambdaContainerSpec): Dockerode.ContainerCreateOptions {
  const ports = spec.exposedPorts.map((p) => `${p}/tcp`);
  return {
    name: spec.name,
    Image: spec.image,
    Cmd: spec.command,
    Env: Object.entries(spec.environment).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    ExposedPorts: Object.fromEntries(ports.map((p) => [p, {}])),
    HostConfig: {
      ...sandboxHostConfig(spec.limits),
      PortBindings: Object.fromEntries(ports.map((p) => [p, [{ HostIp: spec.hostIp, HostPort: '0' }]])),
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,exec,size=${spec.tmpMiB}m` },
      Mounts: spec.mounts.map((m) => ({
        Type: 'volume',
        Source: m.source,
        Target: m.target,
        ReadOnly: true,
      })),
      ...(spec.network ? { NetworkMode: spec.network } : {}),
      ...(spec.extraHosts?.length ? { ExtraHosts: spec.extraHosts } : {}),
    },
  };
}

/** Creates the container (not started); resolves with its id. */
export async function createLambdaContainer(docker: Dockerode, spec: LambdaContainerSpec): Promise<string> {
  const container = await docker.createContainer(createRequest(spec));
  return container.id;
}

export interface StartOptions {
  /** Where the published ports are reached from here (the engine's host). */
  host: string;
  /** The invoke port inside the container. */
  invokePort: number;
  startupTimeoutMs: number;
  /** Called once with the container's output (stdout and stderr, demultiplexed), right after the start. */
  onLogs?: (stream: Readable) => void;
}

/** What a started container publishes: container port → host port. */
export type PublishedPorts = Map<number, number>;

/**
 * Starts a created container and resolves once its invoke endpoint answers, with its published ports.
 * Fails (LAUNCH_FAILED) at once when the container exits before that.
 */
export async function startLambdaContainer(
  docker: Dockerode,
  id: string,
  options: StartOptions,
): Promise<PublishedPorts> {
  const container = docker.getContainer(id);
  await container.start();
  if (options.onLogs) {
    const raw = (await container.logs({ follow: true, stdout: true, stderr: true })) as unknown as Readable;
    const out = new PassThrough();
    docker.modem.demuxStream(raw, out, out);
    raw.once('end', () => out.end());
    raw.once('error', () => out.end());
    // Destroying the demultiplexed stream (a terminate) releases the engine's connection too.
    out.once('close', () => raw.destroy());
    options.onLogs(out);
  }
  const ports = await publishedPorts(container, PORTS_BOUND_TIMEOUT_MS);
  const invokePort = ports.get(options.invokePort);
  if (invokePort === undefined) {
    throw new BackendError(
      ErrorCodes.LAUNCH_FAILED,
      `The container publishes no host port for its invoke port ${options.invokePort}.`,
      { details: { containerId: id } },
    );
  }
  await waitForInvokeEndpoint(container, options.host, invokePort, options.startupTimeoutMs);
  return ports;
}

/** Reads the bound host ports of a started container; fails at once when it is seen exited. */
async function publishedPorts(container: Dockerode.Container, limitMs: number): Promise<PublishedPorts> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const info = await container.inspect();
    const state = info.State;
    if (state.Status === 'exited' || state.Status === 'dead') {
      throw new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `The container exited (code ${state.ExitCode}) while starting, before its invoke port was published.`,
        { details: { containerId: container.id, exitCode: state.ExitCode } },
      );
    }
    const bound = new Map<number, number>();
    for (const [key, bindings] of Object.entries(info.NetworkSettings.Ports ?? {})) {
      const hostPort = bindings?.[0]?.HostPort;
      if (hostPort) bound.set(Number.parseInt(key, 10), Number(hostPort));
    }
    if (bound.size > 0) return bound;
    if (Date.now() > deadline) {
      throw new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `The engine reported no published port of the container within ${limitMs} ms of its start.`,
        { details: { containerId: container.id } },
      );
    }
    await sleep(PORT_POLL_MS);
  }
}
