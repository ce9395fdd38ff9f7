/**
 * Spawning lambda-testkit's emulator for one instance and waiting until it listens.
 * The emulator is a separate Node process (`src/emulator/cli.ts`, or `dist/emulator/cli.js` once
 * built) that serves RIE's invoke route and the Runtime API, and starts the runtime lazily.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendError, ErrorCodes } from '../../errors.ts';
import { LineLog } from '../../instance-logs.ts';

/** The emulator's CLI next to this module: `.ts` when running from sources, `.js` when built. */
export function defaultEmulatorPath(): string {
  const ext = extname(fileURLToPath(import.meta.url));
  return fileURLToPath(new URL(`../../emulator/cli${ext}`, import.meta.url));
}

export interface EmulatorSpawnOptions {
  emulatorPath: string;
  handler: string;
  cwd: string;
  env: Record<string, string>;
  bootstrap?: string;
  startupTimeoutMs: number;
  signal?: AbortSignal;
  /** Called with the child right after spawn (before readiness), so its pid can be recorded. */
  onSpawn?: (child: ChildProcess) => void | Promise<void>;
}

export interface RunningEmulator {
  child: ChildProcess;
  port: number;
  log: LineLog;
  /** Resolves when the emulator process has exited. */
  exited: Promise<void>;
  /** The last lines of the emulator's stderr (for error messages). */
  stderrTail(): string;
}

const TAIL_LINES = 40;
const LISTENING = /lambda-testkit-emulator listening on [^\s:]+:(\d+)/;

/**
 * Spawns the emulator with `process.execPath` (the same Node), detached into its own process group
 * so that the whole tree can be signalled, with piped output and an IPC channel for readiness.
 * Rejects with BackendError LAUNCH_FAILED (and leaves the process to the caller to stop) when the
 * emulator exits, fails or stays silent past the startup timeout.
 */
export async function spawnEmulator(options: EmulatorSpawnOptions): Promise<RunningEmulator> {
  if (!existsSync(options.emulatorPath)) {
    throw new BackendError(
      ErrorCodes.LAUNCH_FAILED,
      `The lambda-testkit emulator was not found at ${options.emulatorPath}. ` +
        'Expected it next to the process backend (src/emulator/cli.ts, or dist/emulator/cli.js after a build); ' +
        'reinstall @lambda-testkit/core or pass "emulatorPath".',
      { details: { emulatorPath: options.emulatorPath } },
    );
  }
  const args = [options.emulatorPath, '--host', '127.0.0.1', '--port', '0', '--runtime-api-port', '0'];
  if (options.bootstrap) args.push('--bootstrap', options.bootstrap);
  args.push(options.handler);

  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const log = new LineLog();
  const tail: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderrPort: number | undefined;
  // stdout and stderr go into one LineLog; whole lines only, so that the two streams never
  // interleave inside a line.
  const feed = (onLine?: (line: string) => void) => {
    let partial = '';
    return {
      data: (chunk: Buffer) => {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          log.write(`${line}\n`);
          onLine?.(line);
        }
      },
      end: () => {
        if (partial) {
          log.write(`${partial}\n`);
          onLine?.(partial);
        }
        partial = '';
      },
    };
  };
  const out = feed();
  const err = feed((line) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    const m = LISTENING.exec(line);
    if (m && stderrPort === undefined) stderrPort = Number(m[1]);
  });
  child.stdout?.on('data', out.data).on('end', out.end);
  child.stderr?.on('data', err.data).on('end', err.end);
  let streamsOpen = 2;
  const streamEnded = () => {
    streamsOpen -= 1;
    if (streamsOpen === 0) log.end();
  };
  child.stdout?.once('close', streamEnded);
  child.stderr?.once('close', streamEnded);
  const stderrTail = () => tail.join('\n');

  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  try {
    await spawned;
  } catch (cause) {
    throw new BackendError(
      ErrorCodes.LAUNCH_FAILED,
      `Could not start the emulator (${process.execPath} ${options.emulatorPath}): ${(cause as Error).message}.`,
      { cause },
    );
  }
  // From here on, an 'error' (a failed kill, a broken IPC pipe) must not become an uncaught
  // exception in the pool's process: the exit and readiness handlers report what matters.
  child.on('error', () => {});
  await options.onSpawn?.(child);

  const port = await new Promise<number>((resolve, reject) => {
    const fail = (reason: string, cause?: unknown) => {
      cleanup();
      const stderr = stderrTail();
      reject(
        new BackendError(
          ErrorCodes.LAUNCH_FAILED,
          `The emulator for handler "${options.handler}" ${reason}.` +
            (stderr ? ` Its stderr ended with:\n${stderr}` : ' It printed nothing on stderr.'),
          { cause, details: { handler: options.handler, stderr } },
        ),
      );
    };
    const onMessage = (message: unknown) => {
      if (typeof message !== 'object' || message === null) return;
      const m = message as { type?: unknown; port?: unknown };
      if (m.type === 'ready' && typeof m.port === 'number') {
        cleanup();
        resolve(m.port);
      }
    };
    const onExit = (code: number | null, sig: NodeJS.Signals | null) => {
      // The ready line may have been printed just before an exit; the exit still wins.
      fail(`exited before it was ready (${sig ? `signal ${sig}` : `exit code ${code}`})`);
    };
    const onAbort = () => fail('launch was aborted (the pool is stopping)', options.signal?.reason);
    const timer = setTimeout(() => {
      // IPC is the contract; the stderr line is a fallback should the channel be lost.
      if (stderrPort !== undefined) {
        cleanup();
        resolve(stderrPort);
        return;
      }
      fail(
        `did not report readiness within ${options.startupTimeoutMs} ms ` +
          '(raise the process backend\'s "startupTimeoutMs" on a slow machine)',
      );
    }, options.startupTimeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
  return { child, port, log, exited, stderrTail };
}
