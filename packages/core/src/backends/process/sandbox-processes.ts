/**
 * Finding and stopping every process of a process-backend sandbox.
 *
 * The emulator runs in its own process group, and it starts the runtime in *another* group (so it
 * can kill a timed-out runtime with its children). Killing the emulator's group alone would orphan
 * the runtime if the emulator died first (SIGKILL, crash). Every sandbox process, however, inherits
 * `LAMBDA_TESTKIT_SANDBOX=<instance folder>`, a path unique to the instance (LAMBDA_TASK_ROOT is not:
 * it is `/var/task` in every confined runtime): on Linux we find them all through `/proc/<pid>/environ`
 * (the environment a process started with; proc(5)), which the owner can read for runtimes in its
 * user namespaces too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { SANDBOX_MARKER_VARIABLE } from '../../emulator/protocol.ts';
import { isProcessAlive, type ProcessIdentity, readProcStat } from '../shared/process-liveness.ts';

/** Which sandbox: the instance folder, or every instance folder below `prefix` (a run's folder). */
export interface SandboxMatch {
  dir?: string;
  prefix?: string;
}

/** Pids of live processes whose sandbox marker is `dir` or lies below `prefix` (Linux only). */
export function findSandboxProcesses(match: SandboxMatch): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${name}/environ`, 'latin1');
    } catch {
      continue; // gone meanwhile, or another user's process
    }
    const value = environValue(environ, SANDBOX_MARKER_VARIABLE);
    if (value === undefined) continue;
    if (value === match.dir || (match.prefix !== undefined && value.startsWith(match.prefix))) {
      const stat = readProcStat(pid);
      if (stat && stat.state !== 'Z') found.push(pid);
    }
  }
  return found;
}

function environValue(environ: string, key: string): string | undefined {
  const marker = `${key}=`;
  for (const entry of environ.split('\0')) if (entry.startsWith(marker)) return entry.slice(marker.length);
  return undefined;
}

/** Sends `signal` to a process group; false when the group is gone. Never signals our own group. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  const own = readProcStat('self')?.pgid;
  if (own === pgid) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs each process and, when it leads or belongs to a foreign group, that group. */
export function killProcesses(pids: readonly number[]): void {
  const own = readProcStat('self')?.pgid;
  for (const pid of pids) {
    const pgid = readProcStat(pid)?.pgid;
    if (pgid !== undefined && pgid !== own) signalGroup(pgid, 'SIGKILL');
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Resolves true once none of `identities` runs any more, false after `timeoutMs`. */
export async function waitUntilGone(
  identities: readonly ProcessIdentity[],
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!identities.some((p) => isProcessAlive(p))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Stops a sandbox: SIGTERM to the emulator's group (the emulator then kills its runtime's group),
 * SIGKILL after `graceMs`, then SIGKILL for anything still carrying the sandbox's marker.
 */
export async function stopSandbox(
  emulator: ProcessIdentity | undefined,
  match: SandboxMatch,
  graceMs: number,
): Promise<void> {
  if (emulator && isProcessAlive(emulator)) {
    signalGroup(emulator.pid, 'SIGTERM');
    if (!(await waitUntilGone([emulator], graceMs))) signalGroup(emulator.pid, 'SIGKILL');
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const stray = findSandboxProcesses(match);
    if (stray.length === 0) break;
    killProcesses(stray);
    await waitUntilGone(
      stray.map((pid) => ({ pid })),
      1000,
    );
  }
  if (emulator) await waitUntilGone([emulator], 1000);
}
