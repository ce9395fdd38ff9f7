/**
 * `owner.json`: which process owns a run's leftovers. A backend writes it when a run starts and,
 * on a later start, sweeps what runs whose owner is gone left behind (the owner may have died by
 * SIGKILL or a crash, with no chance to clean up).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { currentProcessIdentity, isProcessAlive, type ProcessIdentity } from './process-liveness.ts';

export const OWNER_FILE = 'owner.json';

export interface OwnerRecord extends ProcessIdentity {
  /** Host that wrote the record: a temp folder shared between machines is never swept from another host. */
  hostname: string;
  runId: string;
  /** ISO time the run started (for humans reading the file). */
  startedAt: string;
}

/** Writes `<dir>/owner.json` for the calling process, atomically (write + rename). */
export async function writeOwnerFile(dir: string, runId: string): Promise<OwnerRecord> {
  const record: OwnerRecord = {
    ...currentProcessIdentity(),
    hostname: hostname(),
    runId,
    startedAt: new Date().toISOString(),
  };
  const target = join(dir, OWNER_FILE);
  const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`);
  await rename(temp, target);
  return record;
}

/** Reads `<dir>/owner.json`; undefined when it is missing or not an owner record. */
export async function readOwnerFile(dir: string): Promise<OwnerRecord | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(dir, OWNER_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const r = parsed as Partial<OwnerRecord>;
  if (typeof r.pid !== 'number' || typeof r.hostname !== 'string' || typeof r.runId !== 'string') {
    return undefined;
  }
  return {
    pid: r.pid,
    hostname: r.hostname,
    runId: r.runId,
    startedAt: typeof r.startedAt === 'string' ? r.startedAt : '',
    ...(typeof r.startTime === 'string' ? { startTime: r.startTime } : {}),
  };
}

/**
 * True when the owner is provably gone: written on this host and its process no longer runs.
 * A record from another host is never considered gone (we cannot look at its processes).
 */
export function isOwnerGone(owner: OwnerRecord): boolean {
  return owner.hostname === hostname() && !isProcessAlive(owner);
}
