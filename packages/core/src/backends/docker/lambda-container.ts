/**
 * A Testcontainers `GenericContainer` whose published ports listen on one host interface only, and
 * whose start fails at once, with the exit code, when the container stops while starting.
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

export interface LambdaContainerOptions {
  /** Host interface the exposed ports are published on. */
  hostIp: string;
  /** The engine client (Testcontainers' own dockerode), to watch the container's state while it starts. */
  docker: Dockerode;
  /** The container's memory limit in MB (no swap beyond it); unlimited when unset. */
  memoryMb?: number;
}

export class LambdaContainer extends GenericContainer {
  readonly #hostIp: string;
  readonly #docker: Dockerode;
  readonly #memoryMb: number | undefined;
  #containerId: string | undefined;

  constructor(image: string, options: LambdaContainerOptions) {
    super(image);
    this.#hostIp = options.hostIp;
    this.#docker = options.docker;
    this.#memoryMb = options.memoryMb;
  }

  protected override async beforeContainerCreated(): Promise<void> {
    const bindings = this.hostConfig.PortBindings as
      | Record<string, Array<Record<string, string>>>
      | undefined;
    for (const list of Object.values(bindings ?? {})) {
      for (const binding of list) binding.HostIp = this.#hostIp;
    }
    if (this.#memoryMb !== undefined) {
      // Swap equal to the limit means none: a function over its memory is killed, not slowed down.
      this.hostConfig.Memory = this.#memoryMb * 1024 * 1024;
      this.hostConfig.MemorySwap = this.hostConfig.Memory;
    }
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
