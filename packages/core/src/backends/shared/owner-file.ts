/**
 * `owner.json`: which process owns a run's leftovers. A backend writes it when a run starts and,
 * on a later start, sweeps what runs whose owner is gone left behind (the owner may have died by
 * SIGKILL or a crash, with no chance to clean up).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { currentRunOwner, type RunOwner } from './run-owner.ts';

export const OWNER_FILE = 'owner.json';

/** The owner (`isOwnerGone` in run-owner.ts decides whether it is gone) and its run. */
export interface OwnerRecord extends RunOwner {
  runId: string;
  /** ISO time the run started (for humans reading the file). */
  startedAt: string;
}

/** Writes `<dir>/owner.json` for the calling process, atomically (write + rename). */
export async function writeOwnerFile(dir: string, runId: string): Promise<OwnerRecord> {
  const record: OwnerRecord = {
    ...currentRunOwner(),
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
    ...(typeof r.bootId === 'string' && r.bootId ? { bootId: r.bootId } : {}),
  };
}
