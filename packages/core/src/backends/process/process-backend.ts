/**
 * ProcessBackend: Lambda instances without a container engine. An instance is lambda-testkit's
 * emulator (RIE's invoke route + the Runtime API) plus the runtime child it starts, on loopback
 * ports, with the code and layers unpacked into temp folders and a sandbox's environment.
 * Node.js runtimes only: the runtime child is the Node that runs the pool.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { BackendWiring, LambdaBackend, LaunchContext, LaunchedInstance } from '../../backend.ts';
import { INVOKE_SECRET_VARIABLE } from '../../emulator/protocol.ts';
import { BackendError, ConfigError, ErrorCodes, isTestkitError } from '../../errors.ts';
import type { ResolvedFunction } from '../../function-spec.ts';
import type { InstanceLogs } from '../../instance-logs.ts';
import { type LogLine, stderrLog } from '../../log.ts';
import { RUNTIMES, runtimeInfo } from '../../runtimes.ts';
import { announceDebugger } from '../shared/debugger-announce.ts';
import { extractArchive, mergeLayers } from '../shared/extract-archive.ts';
import { type ProcessIdentity, processIdentity } from '../shared/process-liveness.ts';
import { defaultEmulatorPath, type RunningEmulator, spawnEmulator } from './emulator-process.ts';
import { processEnvironment } from './process-environment.ts';
import {
  createInstanceFolders,
  defaultRootDir,
  ensureRunRoot,
  type InstanceLayout,
  instanceLayout,
  removeRunRootIfUnused,
  sweepStaleRuns,
  writeInstanceRecord,
} from './run-root.ts';
import { stopSandbox } from './sandbox-processes.ts';

export interface ProcessBackendOptions {
  /**
   * Folder that holds one `<runId>/` folder per run, each with one folder per instance.
   * @default `${os.tmpdir()}/lambda-testkit`
   */
  rootDir?: string;
  /**
   * How long an emulator may take to report that it listens, in ms.
   * @default 10000
   */
  startupTimeoutMs?: number;
  /**
   * Time between SIGTERM and SIGKILL when an instance is terminated, in ms.
   * @default 2000
   */
  killGraceMs?: number;
  /**
   * The emulator's CLI script.
   * @default the emulator shipped with @lambda-testkit/core (`src/emulator/cli.ts` or `dist/emulator/cli.js`)
   */
  emulatorPath?: string;
  /**
   * A runtime client the emulator starts instead of lambda-testkit's Node bootstrap (its `--bootstrap`),
   * for example a script that starts AWS's `aws-lambda-ric`.
   * @default lambda-testkit's Node bootstrap
   */
  bootstrap?: string;
  /**
   * Sweep what runs whose owner process died left behind (processes and folders under `rootDir`)
   * before the first launch. `reapStale()` does the same on demand.
   * @default true
   */
  reapOnFirstLaunch?: boolean;
  /**
   * Where lambda-testkit's own lines go (the debugger line of a function with `debug` on, an ignored
   * `network`).
   * @default `[lambda-testkit] <line>` on stderr
   */
  log?: LogLine;
}

/** The handle of one process-backend instance (what `launch` returns and `terminate` takes). */
export interface ProcessInstance {
  readonly instanceId: string;
  readonly runId: string;
  readonly functionName: string;
  /** Pid of the emulator; it leads its own process group. */
  readonly pid: number;
  readonly endpoint: string;
  /** The instance's folder (removed by `terminate`). */
  readonly dir: string;
  /** LAMBDA_TASK_ROOT: the unpacked code. */
  readonly taskRoot: string;
  /** The merged layers (`/opt`). */
  readonly optDir: string;
}

interface InstanceState {
  emulator: RunningEmulator;
  identity: ProcessIdentity;
  layout: InstanceLayout;
  /** Stops watching for the inspector's line (debugged functions). */
  unwatch: () => void;
  terminating?: Promise<void>;
}

const NODE_RUNTIMES = RUNTIMES.filter((r) => r.family === 'nodejs').map((r) => r.id);

export class ProcessBackend implements LambdaBackend<ProcessInstance> {
  readonly name = 'process';
  /** Sandboxes are host processes: they reach the host's loopback as it is. */
  readonly sandboxHost = '127.0.0.1';
  readonly rootDir: string;
  readonly #options: Required<Omit<ProcessBackendOptions, 'bootstrap' | 'rootDir'>> &
    Pick<ProcessBackendOptions, 'bootstrap'>;
  readonly #instances = new Map<ProcessInstance, InstanceState>();
  readonly #runRoots = new Map<string, Promise<string>>();
  #firstReap: Promise<number> | undefined;
  #warnedNetwork = false;
  readonly #log: (line: string) => void;
  #closing: Promise<void> | undefined;

  constructor(options: ProcessBackendOptions = {}) {
    this.rootDir = options.rootDir ?? defaultRootDir();
    this.#options = {
      startupTimeoutMs: options.startupTimeoutMs ?? 10_000,
      killGraceMs: options.killGraceMs ?? 2_000,
      emulatorPath: options.emulatorPath ?? defaultEmulatorPath(),
      reapOnFirstLaunch: options.reapOnFirstLaunch ?? true,
      log: options.log ?? stderrLog,
      bootstrap: options.bootstrap,
    };
    this.#log = this.#options.log;
  }

  async launch(fn: ResolvedFunction, context: LaunchContext): Promise<LaunchedInstance<ProcessInstance>> {
    if (this.#closing) {
      throw new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `Cannot launch "${fn.name}": this process backend was closed. Create a new ProcessBackend.`,
        { details: { function: fn.name } },
      );
    }
    const info = runtimeInfo(fn.runtime);
    if (info.family !== 'nodejs' || info.major === undefined) {
      throw new ConfigError(
        ErrorCodes.UNSUPPORTED_RUNTIME,
        `Function "${fn.name}" uses runtime ${fn.runtime}, which the process backend cannot run: it runs ` +
          `Node.js functions only (${NODE_RUNTIMES.join(', ')}). Run ${fn.runtime} with the Docker backend ` +
          '(backend: "docker", needs a container engine), or change the function\'s runtime.',
        { details: { function: fn.name, runtime: fn.runtime, backend: this.name } },
      );
    }
    const runRoot = await this.#runRoot(context.runId);
    const layout = instanceLayout(runRoot, context.instanceId);
    let identity: ProcessIdentity | undefined;
    let created = false;
    try {
      await createInstanceFolders(layout).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        // Another backend of this run removed the run folder as it closed: make it again.
        await ensureRunRoot(this.rootDir, context.runId);
        await createInstanceFolders(layout);
      });
      created = true;
      await extractArchive(fn.code, layout.task);
      throwIfAborted(context.signal, fn);
      await mergeLayers(fn.layers, layout.opt);
      throwIfAborted(context.signal, fn);
      // Only the pool, which gets it back below, may invoke this instance: any other process on the
      // machine can reach its loopback port (docs/security.md#instances-and-the-runtime-api).
      const invokeSecret = randomBytes(32).toString('base64url');
      const emulator = await spawnEmulator({
        emulatorPath: this.#options.emulatorPath,
        handler: fn.handler,
        cwd: layout.task,
        env: {
          ...processEnvironment(fn, context, layout, info.major),
          [INVOKE_SECRET_VARIABLE]: invokeSecret,
        },
        bootstrap: this.#options.bootstrap,
        startupTimeoutMs: this.#options.startupTimeoutMs,
        signal: context.signal,
        onSpawn: async (child) => {
          // Recorded before readiness: a pool killed during startup still leaves a findable pid.
          // The emulator leads its own group, so its start time pins the group's identity.
          const pid = child.pid ?? -1;
          identity = processIdentity(pid) ?? { pid };
          await writeInstanceRecord(layout, identity);
        },
      });
      const endpoint = `http://127.0.0.1:${emulator.port}`;
      const handle: ProcessInstance = {
        instanceId: context.instanceId,
        runId: context.runId,
        functionName: fn.name,
        pid: emulator.child.pid ?? -1,
        endpoint,
        dir: layout.dir,
        taskRoot: layout.task,
        optDir: layout.opt,
      };
      // The emulator's inspector proxy binds 127.0.0.1 of this machine: its address is already the host's.
      const unwatch = announceDebugger(emulator.log, {
        fn,
        from: 'emulator',
        instanceId: context.instanceId,
        log: this.#options.log,
      });
      this.#instances.set(handle, { emulator, identity: identity ?? { pid: handle.pid }, layout, unwatch });
      if (this.#closing) {
        // close() ran while this launch was under way: do not leave the instance behind.
        await this.terminate(handle);
        throw new BackendError(
          ErrorCodes.LAUNCH_FAILED,
          `Launch of "${fn.name}" was cancelled: the process backend was closed meanwhile.`,
        );
      }
      return { endpoint, handle, invokeSecret };
    } catch (cause) {
      // Only what this launch made: a duplicate instance id must not take down the first instance.
      if (created) {
        await stopSandbox(identity, { taskRoot: layout.task }, this.#options.killGraceMs);
        await rm(layout.dir, { recursive: true, force: true, maxRetries: 3 });
      }
      if (isTestkitError(cause)) throw cause;
      throw new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `Could not launch "${fn.name}" in the process backend: ${(cause as Error)?.message ?? String(cause)}.`,
        { cause, details: { function: fn.name, instanceId: context.instanceId } },
      );
    }
  }

  /** Ends the emulator and runtime process trees and removes the instance's folder. Idempotent. */
  terminate(handle: ProcessInstance): Promise<void> {
    const state = this.#instances.get(handle);
    if (!state) return Promise.resolve();
    state.terminating ??= (async () => {
      state.unwatch();
      try {
        await stopSandbox(state.identity, { taskRoot: state.layout.task }, this.#options.killGraceMs);
        // Where process groups do not exist (Windows), signalling -pid fails: end our child directly.
        const { child } = state.emulator;
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        // The exit event follows the kill closely; bounded so a lost event cannot hang the pool.
        await Promise.race([state.emulator.exited, new Promise((r) => setTimeout(r, 2_000).unref())]);
        await rm(state.layout.dir, { recursive: true, force: true, maxRetries: 3 });
      } finally {
        this.#instances.delete(handle);
      }
    })();
    return state.terminating;
  }

  /**
   * Host ports need nothing here (sandboxes share the host's loopback; nothing of it is withheld).
   * A Docker network cannot be joined by a process: said once, so a function that uses a network
   * alias fails with a reason the user can find.
   */
  async wire(wiring: BackendWiring): Promise<undefined> {
    if (wiring.network && !this.#warnedNetwork) {
      this.#warnedNetwork = true;
      this.#log(
        `network "${wiring.network}" is ignored on the process backend: functions run as host processes and ` +
          'cannot resolve its aliases. Reach such services through a port published on 127.0.0.1 (hostPorts, awsEndpoints).',
      );
    }
    return undefined;
  }

  logs(handle: ProcessInstance): InstanceLogs | undefined {
    return this.#instances.get(handle)?.emulator.log;
  }

  /**
   * Sweeps `rootDir` for runs whose owner process is gone: kills their emulators and runtimes and
   * removes their folders. Resolves with the number of instances swept. Runs of live owners
   * (including this one) are left alone.
   */
  reapStale(): Promise<number> {
    return sweepStaleRuns(this.rootDir, { graceMs: this.#options.killGraceMs });
  }

  /** Terminates every instance and removes this backend's run folders. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#instances.keys()].map((h) => this.terminate(h)));
      const roots = await Promise.allSettled(this.#runRoots.values());
      for (const r of roots) if (r.status === 'fulfilled') await removeRunRootIfUnused(r.value);
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** `<rootDir>/<runId>` with its owner file; the first call also sweeps dead runs (see options). */
  #runRoot(runId: string): Promise<string> {
    let root = this.#runRoots.get(runId);
    if (!root) {
      root = ensureRunRoot(this.rootDir, runId);
      this.#runRoots.set(runId, root);
    }
    if (this.#options.reapOnFirstLaunch) {
      // A failed sweep must not fail the launch: leftovers of dead runs are only clutter.
      this.#firstReap ??= this.reapStale().catch(() => 0);
      return Promise.all([root, this.#firstReap]).then(([dir]) => dir);
    }
    return root;
  }
}

function throwIfAborted(signal: AbortSignal | undefined, fn: ResolvedFunction): void {
  if (signal?.aborted) {
    throw new BackendError(
      ErrorCodes.LAUNCH_FAILED,
      `Launch of "${fn.name}" was aborted (the pool is stopping).`,
      { cause: signal.reason },
    );
  }
}
