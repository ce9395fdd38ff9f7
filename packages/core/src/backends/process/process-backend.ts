/**
 * ProcessBackend: Lambda instances without a container engine. An instance is lambda-testkit's
 * emulator (RIE's invoke route + the Runtime API), run inside the pool's own process on loopback
 * ports, and the runtime process it drives, with the code and layers unpacked into temp folders and
 * a sandbox's environment. Node.js runtimes only: the runtime is the Node that runs the pool.
 *
 * Why the emulator runs in the pool's process (docs/architecture.md#process-backend): a Node
 * process per instance for the emulator alone cost more than the whole cold start of a function
 * on Lambda. What makes an instance a sandbox is its runtime process: its own process (group), its
 * own task root, an environment built from scratch, frozen between invocations, killed on timeout.
 * Runtimes may be started ahead as spares (process-spares.ts); an orphan guard process kills them
 * if the pool's process dies without terminating them (orphan-guard.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackendWiring, LambdaBackend, LaunchContext, LaunchedInstance } from '../../backend.ts';
import { readFunctionConfig, runtimeEnvironment } from '../../emulator/config.ts';
import { type RunningEmulator, startEmulator } from '../../emulator/emulator.ts';
import { RUNTIME_WRAPPER_VARIABLE, SANDBOX_MARKER_VARIABLE } from '../../emulator/protocol.ts';
import { RuntimeProcess, withWrapper } from '../../emulator/runtime-process.ts';
import { BackendError, ConfigError, ErrorCodes, isTestkitError } from '../../errors.ts';
import type { ResolvedFunction } from '../../function-spec.ts';
import { type InstanceLogs, LineLog } from '../../instance-logs.ts';
import { type LogLine, stderrLog } from '../../log.ts';
import { RUNTIMES, runtimeInfo } from '../../runtimes.ts';
import { announceDebugger } from '../shared/debugger-announce.ts';
import { extractArchive, mergeLayers } from '../shared/extract-archive.ts';
import {
  type ConfinedLaunch,
  type ConfinementTools,
  confinementWanted,
  detectConfinement,
  prepareConfinement,
  rootDirProblem,
} from './confine.ts';
import { OrphanGuard } from './orphan-guard.ts';
import { processEnvironment } from './process-environment.ts';
import { lineOutput, spareEnvironment, startupKey } from './process-spares.ts';
import {
  createInstanceFolders,
  defaultRootDir,
  ensureRunRoot,
  type InstanceLayout,
  instanceLayout,
  removeRunRootIfUnused,
  SPARE_PREFIX,
  sweepStaleRuns,
  writeInstanceRecord,
} from './run-root.ts';
import {
  COMPILE_CACHE_VARIABLE,
  runtimeCommand,
  runtimeEntryPath,
  SPARE_VARIABLE,
} from './runtime-launch.ts';
import { stopSandbox } from './sandbox-processes.ts';

export interface ProcessBackendOptions {
  /**
   * Folder that holds one `<runId>/` folder per run, each with one folder per instance (and
   * `.compile-cache/`, Node's compile cache for the runtime's bootstrap).
   * @default `${os.tmpdir()}/lambda-testkit`
   */
  rootDir?: string;
  /**
   * Time the sweep of dead runs gives a process group recorded in an instance folder (an emulator
   * of an older lambda-testkit) between SIGTERM and SIGKILL, in ms. Runtimes and what they started
   * are SIGKILLed at once (a frozen process cannot act on SIGTERM).
   * @default 2000
   */
  killGraceMs?: number;
  /**
   * A runtime client to start instead of lambda-testkit's Node bootstrap, for example a script
   * that starts AWS's `aws-lambda-ric`. Such runtimes are spawned at the first invoke (no spares).
   * @default lambda-testkit's Node bootstrap
   */
  bootstrap?: string;
  /**
   * Runtimes kept started ahead of need, per run and per kind (the variables Node reads as it
   * starts, chiefly NODE_OPTIONS with the memory size's heap limit): a launch that finds one skips
   * starting Node and loading the bootstrap. Each idle spare is a Node process (~40 MB resident).
   * 0 turns spares off. Debugged functions never use spares.
   * @default 1
   */
  spareRuntimes?: number;
  /**
   * Sweep what runs whose owner process died left behind (processes and folders under `rootDir`)
   * before the first launch. `reapStale()` does the same on demand.
   * @default true
   */
  reapOnFirstLaunch?: boolean;
  /**
   * Give each runtime its own view of Lambda's folders (Linux; docs/emulator.md#file-system): its code
   * read-only at `/var/task`, its layers read-only at `/opt`, a private `/tmp`, in a mount namespace made
   * through an unprivileged user namespace (util-linux `unshare`). Where that is unavailable (macOS,
   * Windows, user namespaces forbidden, no `unshare`) runtimes run unconfined after one warning per run.
   * `false` turns it off without the warning; so does the environment variable `LAMBDA_TESTKIT_CONFINE=false`
   * when this option is not set.
   * @default true
   */
  confineFileSystem?: boolean;
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
  readonly endpoint: string;
  /** The instance's folder (removed by `terminate`). */
  readonly dir: string;
  /** LAMBDA_TASK_ROOT: the unpacked code. */
  readonly taskRoot: string;
  /** The merged layers (`/opt`). */
  readonly optDir: string;
  /** Whether the runtime runs in its own mount namespace (`confineFileSystem`). */
  readonly confined: boolean;
}

interface InstanceState {
  emulator: RunningEmulator;
  layout: InstanceLayout;
  log: LineLog;
  /** `<runId>\0<instanceId>`: taken while the instance lives. */
  idKey: string;
  /** Stops watching for the inspector's line (debugged functions). */
  unwatch: () => void;
  terminating?: Promise<void>;
}

/** A runtime started ahead, waiting in its own instance folder (process-spares.ts). */
interface Spare {
  runId: string;
  /** `startupKey` of the runtime environment it was started with. */
  key: string;
  layout: InstanceLayout;
  /** Its mount namespace's launch, when runtimes are confined. */
  confined: ConfinedLaunch | undefined;
  runtime: RuntimeProcess;
  log: LineLog;
  output: ReturnType<typeof lineOutput>;
}

/** What a spare is started for: the function (and context) of the launch that asked for it. */
interface SpareTemplate {
  fn: ResolvedFunction;
  context: LaunchContext;
  nodeMajor: number;
}

const NODE_RUNTIMES = RUNTIMES.filter((r) => r.family === 'nodejs').map((r) => r.id);

/** Spares of other kinds kept per run, as a multiple of `spareRuntimes`, before the oldest go. */
const SPARE_KINDS_KEPT = 4;

export class ProcessBackend implements LambdaBackend<ProcessInstance> {
  readonly name = 'process';
  /** Sandboxes are host processes: they reach the host's loopback as it is. */
  readonly sandboxHost = '127.0.0.1';
  readonly rootDir: string;
  readonly #options: Required<Omit<ProcessBackendOptions, 'bootstrap' | 'rootDir' | 'confineFileSystem'>> &
    Pick<ProcessBackendOptions, 'bootstrap' | 'confineFileSystem'>;
  readonly #instances = new Map<ProcessInstance, InstanceState>();
  readonly #liveIds = new Set<string>();
  readonly #runRoots = new Map<string, Promise<string>>();
  readonly #spares: Spare[] = [];
  readonly #spareTemplates = new Map<string, SpareTemplate>();
  readonly #refilling = new Map<string, Promise<void>>();
  readonly #guard = new OrphanGuard();
  readonly #compileCache: string;
  #firstReap: Promise<number> | undefined;
  #warnedNetwork = false;
  #confinement: Promise<ConfinementTools | undefined> | undefined;
  readonly #log: (line: string) => void;
  #closing: Promise<void> | undefined;

  constructor(options: ProcessBackendOptions = {}) {
    this.rootDir = options.rootDir ?? defaultRootDir();
    this.#options = {
      killGraceMs: options.killGraceMs ?? 2_000,
      reapOnFirstLaunch: options.reapOnFirstLaunch ?? true,
      spareRuntimes: options.spareRuntimes ?? 1,
      log: options.log ?? stderrLog,
      bootstrap: options.bootstrap,
      confineFileSystem: options.confineFileSystem,
    };
    if (!Number.isInteger(this.#options.spareRuntimes) || this.#options.spareRuntimes < 0) {
      throw new ConfigError(
        ErrorCodes.CONFIG_INVALID,
        `Expected the process backend's "spareRuntimes" to be a whole number of 0 or more, got ${String(options.spareRuntimes)}. ` +
          'Use 0 to start every runtime on demand.',
        { details: { spareRuntimes: options.spareRuntimes } },
      );
    }
    this.#compileCache = join(this.rootDir, '.compile-cache');
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
    const nodeMajor = info.major;
    const idKey = `${context.runId}\0${context.instanceId}`;
    if (this.#liveIds.has(idKey)) {
      throw new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `Could not launch "${fn.name}": instance id ${context.instanceId} of run ${context.runId} is already in use.`,
        { details: { function: fn.name, instanceId: context.instanceId } },
      );
    }
    this.#liveIds.add(idKey);
    const runRoot = await this.#runRoot(context.runId);
    const spare = this.#takeSpare({ fn, context, nodeMajor });
    const layout = spare?.layout ?? instanceLayout(runRoot, context.instanceId);
    let created = spare !== undefined;
    let emulator: RunningEmulator | undefined;
    try {
      if (!spare) {
        await this.#makeFolders(layout, context.runId);
        created = true;
      }
      await extractArchive(fn.code, layout.task);
      throwIfAborted(context.signal, fn);
      await mergeLayers(fn.layers, layout.opt);
      await writeInstanceRecord(layout, context.instanceId);
      throwIfAborted(context.signal, fn);
      // A spare's namespace was made with it: its folders are bound, the code just unpacked shows.
      const confined = spare ? spare.confined : await this.#confine(layout);
      // Only the pool, which gets it back below, may invoke this instance: any other process on the
      // machine can reach its loopback port (docs/security.md#instances-and-the-runtime-api).
      const invokeSecret = randomBytes(32).toString('base64url');
      const log = spare?.log ?? new LineLog();
      emulator = await startEmulator({
        handler: fn.handler,
        host: '127.0.0.1',
        port: 0,
        runtimeApiPort: 0,
        env: this.#emulatorEnvironment({ fn, context, nodeMajor }, layout, confined),
        output: spare?.output ?? lineOutput(log),
        invokeSecret,
        bootstrap: this.#options.bootstrap ?? runtimeEntryPath(),
        command: runtimeCommand(this.#options.bootstrap, layout),
        ...(spare ? { prestarted: spare.runtime } : {}),
        // The pool's prewarm: the init runs now, before the endpoint is handed out (docs/emulator.md#init-ahead).
        initAhead: context.initAhead === true,
        onRuntimeStart: (pid) => this.#guard.add(pid),
        onRuntimeExit: (pid) => this.#guard.remove(pid),
      });
      throwIfAborted(context.signal, fn);
      const endpoint = emulator.url;
      const handle: ProcessInstance = {
        instanceId: context.instanceId,
        runId: context.runId,
        functionName: fn.name,
        endpoint,
        dir: layout.dir,
        taskRoot: layout.task,
        optDir: layout.opt,
        confined: confined !== undefined,
      };
      // The emulator's inspector proxy binds 127.0.0.1 of this machine: its address is already the host's.
      const unwatch = announceDebugger(log, {
        fn,
        from: 'emulator',
        instanceId: context.instanceId,
        log: this.#options.log,
      });
      this.#instances.set(handle, { emulator, layout, log, idKey, unwatch });
      if (this.#closing) {
        // close() ran while this launch was under way: do not leave the instance behind.
        await this.terminate(handle);
        throw new BackendError(
          ErrorCodes.LAUNCH_FAILED,
          `Launch of "${fn.name}" was cancelled: the process backend was closed meanwhile.`,
        );
      }
      this.#refill({ fn, context, nodeMajor });
      // The emulator runs in this process: the pool's buffered invokes need no HTTP to reach it.
      const direct = { invoke: emulator.invokeDirect };
      return { endpoint, handle, invokeSecret, direct };
    } catch (cause) {
      this.#liveIds.delete(idKey);
      await emulator?.close();
      if (spare) spare.runtime.kill();
      // Only what this launch made: a duplicate instance id must not take down the first instance.
      if (created) {
        await stopSandbox(undefined, { dir: layout.dir }, this.#options.killGraceMs);
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

  /** Ends the runtime's process group (and what it left detached), closes the emulator, removes the folder. Idempotent. */
  terminate(handle: ProcessInstance): Promise<void> {
    const state = this.#instances.get(handle);
    if (!state) return Promise.resolve();
    state.terminating ??= (async () => {
      state.unwatch();
      try {
        await state.emulator.close();
        // Daemons the handler detached into groups of their own still carry the task root.
        await stopSandbox(undefined, { dir: state.layout.dir }, this.#options.killGraceMs);
        state.log.end();
        await rm(state.layout.dir, { recursive: true, force: true, maxRetries: 3 });
      } finally {
        this.#instances.delete(handle);
        this.#liveIds.delete(state.idKey);
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
    return this.#instances.get(handle)?.log;
  }

  /**
   * Sweeps `rootDir` for runs whose owner process is gone: kills their runtimes and removes their
   * folders. Resolves with the number of instances swept (spares not counted). Runs of live owners
   * (including this one) are left alone.
   */
  reapStale(): Promise<number> {
    return sweepStaleRuns(this.rootDir, { graceMs: this.#options.killGraceMs });
  }

  /**
   * Resolves once the spares this backend is starting have loaded and wait for a function (a bench
   * or a test that wants the next launch to find one ready; launches never need to wait for it).
   */
  async sparesReady(): Promise<void> {
    while (this.#refilling.size > 0) await Promise.allSettled([...this.#refilling.values()]);
    await Promise.all(this.#spares.map((s) => s.runtime.ready));
  }

  /** Terminates every instance and spare, and removes this backend's run folders. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#refilling.values()]);
      await Promise.allSettled([
        ...[...this.#instances.keys()].map((h) => this.terminate(h)),
        ...this.#spares.splice(0).map((s) => this.#dropSpare(s)),
      ]);
      this.#guard.close();
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

  async #makeFolders(layout: InstanceLayout, runId: string): Promise<void> {
    await createInstanceFolders(layout).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      // Another backend of this run removed the run folder as it closed: make it again.
      await ensureRunRoot(this.rootDir, runId);
      await createInstanceFolders(layout);
    });
  }

  /** The emulator's environment (which it forwards to the runtime) for `t`'s function in `layout`. */
  #emulatorEnvironment(
    t: SpareTemplate,
    layout: InstanceLayout,
    confined: ConfinedLaunch | undefined,
  ): Record<string, string> {
    const env = confined
      ? {
          ...processEnvironment(
            t.fn,
            t.context,
            confined.folders,
            t.nodeMajor,
            process.env,
            confined.nodeBin,
          ),
          [RUNTIME_WRAPPER_VARIABLE]: JSON.stringify(confined.wrapper),
        }
      : processEnvironment(t.fn, t.context, layout, t.nodeMajor);
    // Every process of the instance carries its folder: how they are found (sandbox-processes.ts).
    env[SANDBOX_MARKER_VARIABLE] = layout.dir;
    // Only lambda-testkit's runtime entry knows (and drops) these; a cache the function sets is its own.
    if (!this.#options.bootstrap && env.NODE_COMPILE_CACHE === undefined) {
      env.NODE_COMPILE_CACHE = confined?.compileCache ?? this.#compileCache;
      env[COMPILE_CACHE_VARIABLE] = '1';
    }
    return env;
  }

  /** Writes the instance's mount namespace (confine.ts); undefined when runtimes run unconfined. */
  async #confine(layout: InstanceLayout): Promise<ConfinedLaunch | undefined> {
    const tools = await this.#confinementTools();
    if (!tools) return undefined;
    return prepareConfinement(
      {
        dir: layout.dir,
        folders: layout,
        node: process.execPath,
        // What the runtime's command names: the runtime entry (and the bootstrap beside it), or the given one.
        keep: [runtimeEntryPath(), ...(this.#options.bootstrap ? [this.#options.bootstrap] : [])],
        ...(this.#options.bootstrap ? {} : { compileCache: this.#compileCache }),
      },
      tools,
    );
  }

  /**
   * The confinement launcher's tools, found once per backend (one run); undefined when runtimes run
   * unconfined: turned off (silently), or unavailable (said once, with the way to get it).
   */
  #confinementTools(): Promise<ConfinementTools | undefined> {
    this.#confinement ??= (async () => {
      if (!confinementWanted(this.#options.confineFileSystem)) return undefined;
      const problem = rootDirProblem(this.rootDir);
      const support = problem ? { available: false as const, reason: problem } : await detectConfinement();
      if (support.available) return support.tools;
      this.#log(
        `file-system confinement is unavailable (${support.reason}): functions on the process backend see the ` +
          "host's /tmp and /opt (shared by every instance and run) and find their code in a temp folder " +
          'instead of /var/task, which they can write. To confine them, run on Linux with util-linux ' +
          '(unshare, mount) and unprivileged user namespaces allowed (sysctl kernel.unprivileged_userns_clone=1, ' +
          'user.max_user_namespaces > 0; on Ubuntu 23.10+ kernel.apparmor_restrict_unprivileged_userns=0), ' +
          "or use the Docker backend. Set the process backend's confineFileSystem: false (or " +
          'LAMBDA_TESTKIT_CONFINE=false) to run unconfined without this warning.',
      );
      return undefined;
    })();
    return this.#confinement;
  }

  /** What the runtime of `t`'s function would be spawned with in `layout` (the API address aside). */
  #runtimeEnvironment(
    t: SpareTemplate,
    layout: InstanceLayout,
    confined: ConfinedLaunch | undefined,
  ): Record<string, string> {
    const env = this.#emulatorEnvironment(t, layout, confined);
    return runtimeEnvironment(env, readFunctionConfig(env), t.fn.handler, '');
  }

  #usesSpares(t: SpareTemplate): boolean {
    // A custom bootstrap knows nothing of assignments; an inspector would start in the spare.
    return this.#options.spareRuntimes > 0 && !this.#options.bootstrap && !t.fn.debug;
  }

  #fits(spare: Spare, t: SpareTemplate): boolean {
    try {
      return (
        spare.runId === t.context.runId &&
        startupKey(this.#runtimeEnvironment(t, spare.layout, spare.confined)) === spare.key
      );
    } catch {
      return false; // a setting the emulator refuses: the launch reports it
    }
  }

  #takeSpare(t: SpareTemplate): Spare | undefined {
    if (!this.#usesSpares(t)) return undefined;
    const i = this.#spares.findIndex((s) => s.runtime.alive && this.#fits(s, t));
    if (i < 0) return undefined;
    const [spare] = this.#spares.splice(i, 1);
    return spare;
  }

  /** Starts spares of `t`'s kind in the background until `spareRuntimes` of them wait. */
  #refill(t: SpareTemplate): void {
    if (!this.#usesSpares(t)) return;
    const runId = t.context.runId;
    this.#spareTemplates.set(runId, t);
    if (this.#refilling.has(runId)) return;
    const work = (async () => {
      for (;;) {
        const template = this.#spareTemplates.get(runId);
        if (!template || this.#closing) return;
        const ofRun = this.#spares.filter((s) => s.runId === runId);
        const fitting = ofRun.filter((s) => s.runtime.alive && this.#fits(s, template));
        if (fitting.length >= this.#options.spareRuntimes) return;
        // Kinds no launch asked for lately give way, oldest first.
        const surplus = ofRun.length + 1 - SPARE_KINDS_KEPT * this.#options.spareRuntimes;
        for (const old of ofRun.filter((s) => !fitting.includes(s)).slice(0, Math.max(0, surplus))) {
          this.#spares.splice(this.#spares.indexOf(old), 1);
          await this.#dropSpare(old);
        }
        await this.#startSpare(template);
      }
    })()
      .catch((error: unknown) => {
        // Spares only save time: a failure to start one is said and the launches go on without.
        this.#log(`could not start a spare runtime: ${(error as Error)?.message ?? String(error)}`);
      })
      .finally(() => this.#refilling.delete(runId));
    this.#refilling.set(runId, work);
  }

  async #startSpare(t: SpareTemplate): Promise<void> {
    const runRoot = await this.#runRoot(t.context.runId);
    const layout = instanceLayout(runRoot, `${SPARE_PREFIX}${randomUUID().slice(0, 8)}`);
    await this.#makeFolders(layout, t.context.runId);
    if (this.#closing) {
      await rm(layout.dir, { recursive: true, force: true, maxRetries: 3 });
      return;
    }
    const confined = await this.#confine(layout);
    const runtimeEnv = this.#runtimeEnvironment(t, layout, confined);
    const log = new LineLog();
    const output = lineOutput(log);
    const runtime = new RuntimeProcess(
      withWrapper(runtimeCommand(undefined, layout), confined?.wrapper),
      spareEnvironment(runtimeEnv, {
        [SPARE_VARIABLE]: '1',
        // In the environment it starts with: /proc/<pid>/environ is how the sweep finds it.
        [SANDBOX_MARKER_VARIABLE]: layout.dir,
        ...(runtimeEnv[COMPILE_CACHE_VARIABLE] ? { [COMPILE_CACHE_VARIABLE]: '1' } : {}),
      }),
      layout.task,
      output,
      { assignable: true },
    );
    const pid = runtime.pid;
    const spare: Spare = {
      runId: t.context.runId,
      key: startupKey(runtimeEnv),
      layout,
      confined,
      runtime,
      log,
      output,
    };
    this.#spares.push(spare);
    if (pid !== undefined) this.#guard.add(pid);
    void runtime.exited.then(async () => {
      if (pid !== undefined) this.#guard.remove(pid);
      // Died while waiting (never given out): its folder goes with it.
      const i = this.#spares.indexOf(spare);
      if (i >= 0) {
        this.#spares.splice(i, 1);
        await rm(layout.dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
      }
    });
  }

  async #dropSpare(spare: Spare): Promise<void> {
    spare.runtime.kill();
    await spare.runtime.exited;
    await stopSandbox(undefined, { dir: spare.layout.dir }, this.#options.killGraceMs);
    await rm(spare.layout.dir, { recursive: true, force: true, maxRetries: 3 });
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
