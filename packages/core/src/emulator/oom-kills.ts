/**
 * Whether the kernel's OOM killer ended a process of this container: the memory cgroup counts its
 * kills (`oom_kill` in `memory.events` on cgroup v2, in `memory.oom_control` on v1, Linux 4.13+).
 * A runtime that dies by SIGKILL while that count rose ran out of memory, and Lambda reports that as
 * `Runtime.OutOfMemory`. Where no limit is set (or no cgroup file is readable) the count stays
 * undefined and the exit is reported as the plain `Runtime.ExitError` it looks like.
 */
import { readFileSync } from 'node:fs';

const COUNTER_FILES = ['/sys/fs/cgroup/memory.events', '/sys/fs/cgroup/memory/memory.oom_control'];

/** The container's OOM-kill count, or undefined where the kernel does not say. */
export function oomKillCount(files: readonly string[] = COUNTER_FILES): number | undefined {
  for (const file of files) {
    try {
      const match = /^oom_kill (\d+)$/m.exec(readFileSync(file, 'utf8'));
      if (match?.[1]) return Number(match[1]);
    } catch {
      // Not this cgroup version (or no cgroup filesystem): the next file, or no answer.
    }
  }
  return undefined;
}
