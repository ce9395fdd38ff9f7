/**
 * An inter-process lock around the local image build: several suites (processes) may ask for the
 * image at once; one builds, the others wait and then find it. The lock file holds its owner's
 * process identity, so the lock of a process that died is taken over.
 */
import { createHash } from 'node:crypto';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendError, ErrorCodes } from '../../errors.ts';
import { currentProcessIdentity, isProcessAlive, type ProcessIdentity } from '../shared/process-liveness.ts';

/** How long a build waits for another process's build of the same tag. */
const LOCK_WAIT_MS = 10 * 60_000;
/** A lock file nobody could finish writing (its writer died at once) is stale after this. */
const LOCK_UNREADABLE_STALE_MS = 30_000;

/** Serialises builds of one tag across processes on this host, with a lock file holding its owner. */
export async function withBuildLock<T>(
  tag: string,
  progress: (m: string) => void,
  build: () => Promise<T>,
): Promise<T> {
  const id = createHash('sha256').update(tag).digest('hex').slice(0, 16);
  const file = join(tmpdir(), `lambda-testkit-image-${id}.lock`);
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(JSON.stringify(currentProcessIdentity()));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readFile(file, 'utf8')
      .then((text) => JSON.parse(text) as ProcessIdentity)
      .catch(() => undefined);
    const age = Date.now() - ((await stat(file).catch(() => undefined))?.mtimeMs ?? Date.now());
    const stale = holder
      ? typeof holder.pid !== 'number' || !isProcessAlive(holder)
      : age > LOCK_UNREADABLE_STALE_MS;
    if (stale) {
      await rm(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new BackendError(
        ErrorCodes.IMAGE_UNAVAILABLE,
        `Timed out waiting for another process (pid ${holder?.pid ?? 'unknown'}) building ${tag}. ` +
          `If no build runs, remove ${file} and try again.`,
        { details: { tag, lockFile: file } },
      );
    }
    if (!announced) progress(`waiting for another process (pid ${holder?.pid ?? 'unknown'}) building ${tag}`);
    announced = true;
    await new Promise((r) => setTimeout(r, 250));
  }
  try {
    return await build();
  } finally {
    await rm(file, { force: true });
  }
}
