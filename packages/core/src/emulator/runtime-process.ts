/**
 * The runtime client child process. It is spawned detached, in its own process group, so that a
 * timeout or shutdown kills the handler's own children too (`kill(-pgid)`), as the sandbox reset
 * does in RIE (docs/lambda-apis.md#rie-lifecycle-and-log-lines).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { preferForOomKill } from './memory-watch.ts';

export interface RuntimeCommand {
  /** Executable to run: `node` for a `.js`/`.ts` bootstrap, or the bootstrap itself. */
  file: string;
  args: string[];
}

/** Why the runtime ended, in RIE's words ("exit status 3", "signal: killed"), or undefined for exit 0. */
export type ExitReason = string | undefined;

/** An unprivileged user to run the runtime as (the emulator must be root to switch). */
export interface RuntimeUser {
  uid: number;
  gid: number;
}

export interface RuntimeOutput {
  stdout: Writable;
  stderr: Writable;
}

/** Extra spawn choices of a runtime process. */
export interface RuntimeSpawnOptions {
  user?: RuntimeUser;
  /**
   * Started ahead of its function: stdin is a pipe that carries one assignment line (`assign`),
   * then closes, and fd 3 a pipe on which the runtime says it is ready for one (any byte, or its
   * end; `ready`). Without it, stdin is /dev/null and there is no fd 3.
   */
  assignable?: boolean;
  /**
   * Sees every chunk of the runtime's stderr on its way to the emulator's (a debugged runtime's
   * inspector line); stderr is then piped through the emulator.
   */
  tapStderr?: (chunk: Buffer) => void;
}

const SCRIPT_EXTENSIONS = /\.(?:[cm]?js|[cm]?ts)$/;

/** How to run a bootstrap path: scripts through the current Node binary, anything else directly. */
export function commandFor(bootstrapPath: string): RuntimeCommand {
  return SCRIPT_EXTENSIONS.test(bootstrapPath)
    ? { file: process.execPath, args: [bootstrapPath] }
    : { file: bootstrapPath, args: [] };
}

/** The runtime's command started through a launcher's argv (`wrapper`), or unchanged without one. */
export function withWrapper(command: RuntimeCommand, wrapper: readonly string[] | undefined): RuntimeCommand {
  const [file, ...args] = wrapper ?? [];
  return file === undefined ? command : { file, args: [...args, command.file, ...command.args] };
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): ExitReason {
  if (signal) return `signal: ${signal === 'SIGKILL' ? 'killed' : signal.toLowerCase().replace(/^sig/, '')}`;
  return code === 0 || code === null ? undefined : `exit status ${code}`;
}

export class RuntimeProcess {
  /** Resolves once the process is gone (exit or spawn failure), with RIE's description. */
  readonly exited: Promise<ExitReason>;
  /** An `assignable` runtime: resolves once it waits for its assignment (or is gone). Others: at once. */
  readonly ready: Promise<void>;
  readonly #child: ChildProcess;
  #gone = false;

  constructor(
    command: RuntimeCommand,
    env: Record<string, string>,
    cwd: string,
    output?: RuntimeOutput,
    options: RuntimeSpawnOptions = {},
  ) {
    const { user, tapStderr } = options;
    this.#child = spawn(command.file, command.args, {
      cwd,
      env,
      detached: true,
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      // Inherit: the runtime writes to the emulator's own stdout/stderr, so its lines land before the
      // emulator's END/REPORT lines of the same invoke (ordering the pool relies on to cut logs).
      // Piped, the sandbox defers END/REPORT by one turn of the event loop (sandbox.ts).
      stdio: [
        options.assignable ? 'pipe' : 'ignore',
        output ? 'pipe' : 'inherit',
        output || tapStderr ? 'pipe' : 'inherit',
        ...(options.assignable ? (['pipe'] as const) : []),
      ],
    });
    const readiness = this.#child.stdio[3];
    this.ready = readiness
      ? new Promise<void>((resolve) => {
          readiness.once('data', () => resolve());
          readiness.once('close', () => resolve());
          readiness.on('error', () => {});
        })
      : Promise.resolve();
    // A runtime that dies before reading its assignment must not raise EPIPE in this process.
    this.#child.stdin?.on('error', () => {});
    if (this.#child.pid !== undefined) preferForOomKill(this.#child.pid);
    if (output) this.#child.stdout?.pipe(output.stdout, { end: false });
    if (output || tapStderr) {
      const stderr = output?.stderr ?? process.stderr;
      this.#child.stderr?.on('data', (chunk: Buffer) => {
        tapStderr?.(chunk);
        stderr.write(chunk);
      });
    }
    this.exited = new Promise((resolve) => {
      this.#child.once('error', (error: NodeJS.ErrnoException) => {
        this.#gone = true;
        process.stderr.write(
          `lambda-testkit-emulator: cannot start the runtime "${command.file}": ${error.message}\n`,
        );
        resolve(`exit status 127`);
      });
      this.#child.once('exit', (code, signal) => {
        this.#gone = true;
        // The group may still hold children of the handler; they go with the runtime.
        this.#killGroup();
        resolve(describeExit(code, signal));
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /**
   * Hands a runtime started ahead (`assignable`) its function: one JSON line on its stdin, which
   * then closes. What the line holds is the caller's contract with the runtime's entry script.
   */
  assign(assignment: unknown): void {
    const stdin = this.#child.stdin;
    if (!stdin) throw new Error('RuntimeProcess.assign: this runtime was not started assignable');
    stdin.end(`${JSON.stringify(assignment)}\n`);
  }

  get alive(): boolean {
    return !this.#gone;
  }

  /**
   * Freezes the whole group (SIGSTOP), as Lambda freezes an execution environment between
   * invocations: timers and promises left running wait for the next `thaw`.
   */
  freeze(): void {
    this.#signalGroup('SIGSTOP');
  }

  thaw(): void {
    this.#signalGroup('SIGCONT');
  }

  /** SIGKILL to the whole process group; safe to call any number of times, also synchronously at exit. */
  kill(): void {
    this.#killGroup();
  }

  #killGroup(): void {
    this.#signalGroup('SIGKILL');
  }

  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}
