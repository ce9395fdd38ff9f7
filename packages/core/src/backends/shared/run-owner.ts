/**
 * Who owns a run's leftovers (temp folders, process groups, containers), and the one rule that
 * decides whether that owner is gone. The process backend stores the owner in `owner.json`, the
 * Docker backend in container labels; both ask `isOwnerGone`.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { currentProcessIdentity, isProcessAlive, type ProcessIdentity } from './process-liveness.ts';

export interface RunOwner extends ProcessIdentity {
  /** Host the owner ran on: leftovers of another host are never swept (its processes cannot be seen). */
  hostname: string;
  /** `/proc/sys/kernel/random/boot_id` when the owner started (Linux); absent where it cannot be read. */
  bootId?: string;
}

/** `/proc/sys/kernel/random/boot_id` (Linux; '' elsewhere), so that owners from an earlier boot count as gone. */
export function hostBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** The calling process as the owner of what it is about to create. */
export function currentRunOwner(): RunOwner {
  const bootId = hostBootId();
  return { ...currentProcessIdentity(), hostname: hostname(), ...(bootId ? { bootId } : {}) };
}

/**
 * True when the owner is provably gone: it ran on this host and either the host has rebooted since
 * (no process of an earlier boot can be alive, whatever now runs under its pid) or no process with
 * its pid and start time runs. An owner of another host is never gone.
 */
export function isOwnerGone(owner: RunOwner): boolean {
  if (owner.hostname !== hostname()) return false;
  const currentBoot = hostBootId();
  if (owner.bootId && currentBoot && owner.bootId !== currentBoot) return true;
  return !isProcessAlive(owner);
}
