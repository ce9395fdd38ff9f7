/**
 * Is a process (still) the one we recorded? Backend-neutral: used to decide whether the run that
 * owns leftovers (temp folders, process groups, containers) is gone.
 *
 * A bare pid is not an identity: pids are reused, so a dead run's pid may belong to an unrelated
 * process by the time we look. On Linux the start time in `/proc/<pid>/stat` (field 22, clock
 * ticks since boot; proc(5)) pins the identity. Elsewhere only "a process with that pid exists" can
 * be checked, which errs on the side of keeping leftovers (never of killing a stranger).
 */
import { readFileSync } from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** `/proc/<pid>/stat` start time (Linux only); absent where it cannot be read. */
  startTime?: string;
}

export interface ProcStat {
  /** One letter: R, S, D, Z (zombie), T, … (proc(5)). */
  state: string;
  ppid: number;
  pgid: number;
  startTime: string;
}

/** Parses `/proc/<pid>/stat`; undefined when there is no such process or no procfs. */
export function readProcStat(pid: number | 'self'): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces and ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, ppid, pgid] = fields;
  const startTime = fields[19];
  if (state === undefined || ppid === undefined || pgid === undefined || startTime === undefined) {
    return undefined;
  }
  return { state, ppid: Number(ppid), pgid: Number(pgid), startTime };
}

/** The identity of the calling process, to record in an owner file. */
export function currentProcessIdentity(): ProcessIdentity {
  const stat = readProcStat('self');
  return stat ? { pid: process.pid, startTime: stat.startTime } : { pid: process.pid };
}

/** The identity of a running process, or undefined when none runs with that pid. */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  const stat = readProcStat(pid);
  if (stat) return stat.state === 'Z' ? undefined : { pid, startTime: stat.startTime };
  return pidExists(pid) ? { pid } : undefined;
}

/**
 * True while the recorded process runs. A zombie counts as gone (it has exited; only its parent
 * has not collected the status yet, which is common for orphans in containers whose pid 1 does not reap).
 */
export function isProcessAlive(identity: ProcessIdentity): boolean {
  if (!Number.isInteger(identity.pid) || identity.pid <= 0) return false;
  const stat = readProcStat(identity.pid);
  if (stat) {
    if (stat.state === 'Z' || stat.state === 'X') return false;
    return identity.startTime === undefined || identity.startTime === stat.startTime;
  }
  return pidExists(identity.pid);
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
