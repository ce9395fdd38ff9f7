/**
 * Deterministic zipping of a directory (a function's code or a layer).
 *
 * The deploy id hashes the zip bytes, so the same tree must always give the same bytes: entries are
 * sorted, every entry carries the same fixed timestamp, and modes are normalised to 0644 / 0755
 * (only the executable bit of the source survives: a `bootstrap` must stay executable, but umask or
 * checkout differences must not change the hash). Packaging is archiver's job; we only feed it.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { loadOnFirstUse } from '../load-on-first-use.ts';

/**
 * The fixed entry time, 1980-01-01 (the earliest DOS date). In UTC because compress-commons converts
 * entry dates to DOS fields with the UTC getters unless `forceLocalTime` is set (its
 * `archivers/zip/util.js` dateToDos): a local-time date would give other bytes in another time zone.
 */
const FIXED_DATE = new Date(Date.UTC(1980, 0, 1, 0, 0, 0));
const FILE_MODE = 0o644;
const EXECUTABLE_MODE = 0o755;

interface TreeEntry {
  /** Forward-slash path inside the archive. */
  name: string;
  absolute: string;
  executable: boolean;
}

/**
 * Symlinks are followed and stored as the files they point to (as `zip -r` and the AWS CLI do):
 * archiver stamps symlink entries with the current time (`dateify(null)` in its core.js), which
 * would break determinism, and pnpm-style linked `node_modules` must ship their content anyway.
 * `ancestors` holds the real paths of the directories being walked, so a link cycle stops.
 */
async function walk(root: string, dir: string, out: TreeEntry[], ancestors: Set<string>): Promise<void> {
  const names = await readdir(dir);
  for (const name of names) {
    const absolute = join(dir, name);
    const stats = await stat(absolute).catch(() => undefined); // dangling link: nothing to ship
    if (!stats) continue;
    const inArchive = relative(root, absolute).split(sep).join('/');
    if (stats.isDirectory()) {
      const real = await realpath(absolute);
      if (ancestors.has(real)) continue;
      ancestors.add(real);
      await walk(root, absolute, out, ancestors);
      ancestors.delete(real);
    } else if (stats.isFile()) {
      out.push({ name: inArchive, absolute, executable: (stats.mode & 0o111) !== 0 });
    }
    // Sockets, FIFOs and devices have no place in a deployment package: skipped.
  }
}

async function collect(root: string): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  await walk(root, root, entries, new Set([await realpath(root)]));
  return sortEntries(entries);
}

/** Lists the files of a tree in the order they are zipped (byte order of their archive paths). */
export async function listTree(root: string): Promise<string[]> {
  return (await collect(root)).map((e) => e.name);
}

function sortEntries(entries: TreeEntry[]): TreeEntry[] {
  // Plain code-unit order, not localeCompare: the order must not depend on the machine's locale.
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Zips `dir` deterministically: same tree (names, contents, executable bits) → same bytes. */
export async function zipDirectory(dir: string): Promise<Buffer> {
  const entries = await collect(dir);

  // archiver (and its tar, glob and stream dependencies) loads on the first zip, not with the host.
  const { ZipArchive } = loadOnFirstUse<typeof import('archiver')>('archiver');
  const archive = new ZipArchive({ zlib: { level: 6 }, forceLocalTime: false });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    archive.on('data', (chunk: Buffer) => chunks.push(chunk));
    archive.on('end', () => resolve(Buffer.concat(chunks)));
    archive.on('error', reject);
    archive.on('warning', reject);
  });
  for (const entry of entries) {
    // Buffers, not archive.file(): file() stats the path and would let the real mtime leak in.
    archive.append(await readFile(entry.absolute), {
      name: entry.name,
      date: FIXED_DATE,
      mode: entry.executable ? EXECUTABLE_MODE : FILE_MODE,
    });
  }
  await archive.finalize();
  return done;
}

/** Base64 SHA-256, as AWS reports `CodeSha256`. */
export function sha256Base64(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}
