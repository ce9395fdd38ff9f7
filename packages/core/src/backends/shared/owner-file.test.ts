import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TemporaryFolder } from '../../testing/temporary-folder.ts';
import { OWNER_FILE, readOwnerFile, writeOwnerFile } from './owner-file.ts';
import { currentProcessIdentity, isProcessAlive, processIdentity } from './process-liveness.ts';
import { hostBootId, isOwnerGone } from './run-owner.ts';

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

const scratch = new TemporaryFolder('ltk-owner-');
beforeEach(() => scratch.renew());
afterEach(() => scratch.remove());

describe('process liveness', () => {
  it('sees the current process as alive and an exited one as gone', () => {
    expect(isProcessAlive(currentProcessIdentity())).toBe(true);
    const pid = deadPid();
    expect(isProcessAlive({ pid })).toBe(false);
    expect(processIdentity(pid)).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')('tells a reused pid apart by its start time', () => {
    const me = currentProcessIdentity();
    expect(me.startTime).toMatch(/^\d+$/);
    expect(isProcessAlive({ pid: me.pid, startTime: '1' })).toBe(false);
  });

  it('rejects nonsense pids', () => {
    expect(isProcessAlive({ pid: 0 })).toBe(false);
    expect(isProcessAlive({ pid: -5 })).toBe(false);
  });
});

describe('owner file', () => {
  it('round-trips the owner record of the current process', async () => {
    const written = await writeOwnerFile(scratch.path, 'run-1');
    const read = await readOwnerFile(scratch.path);
    expect(read).toEqual(written);
    expect(read?.pid).toBe(process.pid);
    expect(read && isOwnerGone(read)).toBe(false);
  });

  it('reports a dead owner on this host as gone, and never one of another host', async () => {
    const pid = deadPid();
    const base = { pid, runId: 'r', startedAt: '' };
    expect(isOwnerGone({ ...base, hostname: hostname() })).toBe(true);
    expect(isOwnerGone({ ...base, hostname: `${hostname()}-elsewhere` })).toBe(false);
  });

  // The rule owner files once had ignored the boot: a record whose pid (and, by chance, start time)
  // matches a process running after a reboot was taken for a live owner and its run never swept.
  it.skipIf(!hostBootId())(
    'reports an owner of an earlier boot as gone even if its pid now runs',
    async () => {
      const written = await writeOwnerFile(scratch.path, 'run-1');
      expect(written.bootId).toBe(hostBootId());
      await writeFile(
        join(scratch.path, OWNER_FILE),
        JSON.stringify({ ...written, bootId: 'an-earlier-boot' }),
      );
      const read = await readOwnerFile(scratch.path);
      expect(read).toMatchObject({ pid: process.pid, bootId: 'an-earlier-boot' });
      expect(read && isProcessAlive(read)).toBe(true);
      expect(read && isOwnerGone(read)).toBe(true);
    },
  );

  it('reads a missing or malformed file as no owner', async () => {
    expect(await readOwnerFile(scratch.path)).toBeUndefined();
    await writeFile(join(scratch.path, OWNER_FILE), '{"pid":"nope"}');
    expect(await readOwnerFile(scratch.path)).toBeUndefined();
    await writeFile(join(scratch.path, OWNER_FILE), 'not json');
    expect(await readOwnerFile(scratch.path)).toBeUndefined();
  });
});
