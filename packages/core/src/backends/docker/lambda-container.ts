/**
 * A Testcontainers `GenericContainer` whose published ports listen on one host interface only, whose
 * sandbox is bounded like a Lambda execution environment (see `sandboxLimits`), and whose start fails
 * at once, with the exit code, when the container stops while starting.
 *
 * Why the host interface: Testcontainers 12.2 publishes every exposed port as `{ HostPort: "0" }`
 * with no `HostIp` (generic-container.js `withExposedPorts`), which Docker binds on all interfaces,
 * and it has no option to change that. A Lambda sandbox runs whatever code is under test, with dummy
 * credentials, and must not be reachable from the network. `beforeContainerCreated` is the hook
 * Testcontainers calls right before `POST /containers/create`, with `hostConfig` still editable.
 *
 * Why the exit watch: after starting a container, Testcontainers waits for the engine to report its
 * port bindings (inspect-container-util-ports-exposed.js), for a fixed 10 s that the startup timeout
 * does not change. The engine reports them in the first inspect of a running container, and never
 * for a container that has exited (Docker 20.10, checked by hand: `NetworkSettings.Ports` stays
 * `{}`). So a container that dies at start (a broken image, a missing emulator) cost 10 s and ended
 * in "Timed out after 10000ms while waiting for container ports to be bound to the host", which hid
 * the real reason and, on a loaded machine, pushed launches past their callers' deadlines.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { GenericContainer, type StartedTestContainer } from 'testcontainers';
import { BackendError, ErrorCodes } from '../../errors.ts';

/** How often a starting container's state is read (a start takes well under a second when healthy). */
const EXIT_POLL_MS = 100;

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
 *   (RIE README); the code is copied in and /tmp mounted by the engine before the start. What the
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

export interface LambdaContainerOptions {
  /** Host interface the exposed ports are published on. */
  hostIp: string;
  /** The sandbox's memory and process limits. */
  limits: SandboxLimits;
  /** The engine client (Testcontainers' own dockerode), to watch the container's state while it starts. */
  docker: Dockerode;
}

export class LambdaContainer extends GenericContainer {
  readonly #hostIp: string;
  readonly #limits: SandboxLimits;
  readonly #docker: Dockerode;
  #containerId: string | undefined;

  constructor(image: string, options: LambdaContainerOptions) {
    super(image);
    this.#hostIp = options.hostIp;
    this.#limits = options.limits;
    this.#docker = options.docker;
  }

  protected override async beforeContainerCreated(): Promise<void> {
    const bindings = this.hostConfig.PortBindings as
      | Record<string, Array<Record<string, string>>>
      | undefined;
    for (const list of Object.values(bindings ?? {})) {
      for (const binding of list) binding.HostIp = this.#hostIp;
    }
    Object.assign(this.hostConfig, sandboxHostConfig(this.#limits));
  }

  /** Called by Testcontainers after `POST /containers/create`, before the start. */
  protected override async containerCreated(containerId: string): Promise<void> {
    this.#containerId = containerId;
  }

  /**
   * Testcontainers' start, raced against the container stopping before it is up. Losing the race,
   * Testcontainers' own wait goes on until the caller removes the container (its next inspect then
   * fails) or its 10 s pass; Promise.race has handled its rejection either way.
   */
  override async start(): Promise<StartedTestContainer> {
    const watch = new AbortController();
    try {
      return await Promise.race([super.start(), this.#failOnExit(watch.signal)]);
    } finally {
      watch.abort();
    }
  }

  /** Rejects when the container is seen exited (or dead) before `signal` aborts; otherwise never settles. */
  async #failOnExit(signal: AbortSignal): Promise<never> {
    while (!signal.aborted) {
      await sleep(EXIT_POLL_MS, undefined, { signal }).catch(() => {});
      const id = this.#containerId;
      if (signal.aborted || id === undefined) continue;
      const state = await this.#docker
        .getContainer(id)
        .inspect()
        .then(
          (info) => info.State,
          () => undefined,
        );
      if (state?.Status === 'exited' || state?.Status === 'dead') {
        throw new BackendError(
          ErrorCodes.LAUNCH_FAILED,
          `The container exited (code ${state.ExitCode}) while starting, before its invoke port was published.`,
          { details: { containerId: id, exitCode: state.ExitCode } },
        );
      }
    }
    // Aborted: the race is already settled, so what this promise does no longer matters.
    return new Promise<never>(() => {});
  }
}
