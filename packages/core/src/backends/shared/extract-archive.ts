/**
 * Unpacking a resolved code or layer zip into a folder, as Lambda lays out `/var/task` and `/opt`.
 * Backend-neutral: the process backend unpacks into temp folders; a container backend may stage
 * files the same way before copying them into an image.
 */
import { createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, rm, symlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type yauzl from 'yauzl';
import { ConfigError, ErrorCodes } from '../../errors.ts';
import type { ResolvedArchive } from '../../function-spec.ts';
import { loadOnFirstUse } from '../../load-on-first-use.ts';
import { zipEntryKind } from './zip-entry-kind.ts';

export interface ExtractResult {
  files: number;
  directories: number;
  symlinks: number;
}

/**
 * Unpacks `archive.zip` into `dest` (created when missing), keeping UNIX modes (the executable bit
 * matters for `bootstrap` files and `/opt/bin` tools) and symlinks. Existing files are replaced, so
 * calling it once per layer in attach order gives Lambda's "later layers overwrite" semantics.
 *
 * Entries never land outside `dest`: yauzl rejects absolute and `..` names, and a path whose parent
 * is a symlink (planted by an earlier entry or layer) is replaced by a real folder, not followed.
 */
export async function extractArchive(archive: ResolvedArchive, dest: string): Promise<ExtractResult> {
  const root = resolve(dest);
  await mkdir(root, { recursive: true });
  const result: ExtractResult = { files: 0, directories: 0, symlinks: 0 };
  const knownDirs = new Set<string>([root]);
  const dirModes: Array<[string, number]> = [];
  let zip: yauzl.ZipFile;
  try {
    // Loaded on the first unpack, not with the host: a run that launches nothing never needs it.
    const { fromBufferPromise } = loadOnFirstUse<typeof yauzl>('yauzl');
    zip = await fromBufferPromise(archive.zip, { lazyEntries: true, strictFileNames: false });
  } catch (cause) {
    throw unreadable(archive, cause);
  }
  try {
    for await (const entry of zip.eachEntry()) {
      const target = resolve(root, entry.fileName);
      if (target !== root && !target.startsWith(root + sep))
        throw unreadable(archive, { outside: entry.fileName });
      const { type, permissions } = zipEntryKind(entry);
      if (type === 'directory') {
        await ensureDirectory(root, target, knownDirs);
        if (permissions) dirModes.push([target, permissions]);
        result.directories += 1;
        continue;
      }
      await ensureDirectory(root, dirname(target), knownDirs);
      // Replace whatever an earlier layer put here (file, symlink or folder).
      await rm(target, { recursive: true, force: true });
      knownDirs.delete(target);
      const stream = await zip.openReadStreamPromise(entry);
      if (type === 'symlink') {
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        await symlink(Buffer.concat(chunks).toString('utf8'), target);
        result.symlinks += 1;
        continue;
      }
      const mode = permissions || 0o644;
      await pipeline(stream, createWriteStream(target, { mode }));
      // createWriteStream's mode is filtered by the umask; the zip's mode is what Lambda keeps.
      await chmod(target, mode);
      result.files += 1;
    }
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    throw unreadable(archive, cause);
  } finally {
    zip.close();
  }
  // Folder modes last: a read-only folder from the zip must not block writing its own entries.
  // The owner keeps rwx so that the folder can be removed later.
  for (const [dir, mode] of dirModes) await chmod(dir, mode | 0o700);
  return result;
}

/** Unpacks layers into `optDir` in attach order; a later layer's file replaces an earlier one's. */
export async function mergeLayers(layers: readonly ResolvedArchive[], optDir: string): Promise<void> {
  await mkdir(optDir, { recursive: true });
  for (const layer of layers) await extractArchive(layer, optDir);
}

/** Creates `dir` and its parents below `root`, replacing any non-folder (file, symlink) in the way. */
async function ensureDirectory(root: string, dir: string, known: Set<string>): Promise<void> {
  if (known.has(dir)) return;
  const parts = relative(root, dir).split(sep).filter(Boolean);
  let current = root;
  for (const part of parts) {
    current = join(current, part);
    if (known.has(current)) continue;
    const stat = await lstat(current).catch(() => undefined);
    if (!stat?.isDirectory()) {
      if (stat) await rm(current, { force: true });
      await mkdir(current);
    }
    known.add(current);
  }
}

function unreadable(archive: ResolvedArchive, cause: unknown): ConfigError {
  const detail =
    typeof cause === 'object' && cause !== null && 'outside' in cause
      ? `entry "${String(cause.outside)}" would land outside the target folder`
      : cause instanceof Error
        ? cause.message
        : String(cause);
  return new ConfigError(
    ErrorCodes.CODE_NOT_FOUND,
    `Could not unpack the zip of ${archive.source}: ${detail}. ` +
      'Expected a valid zip with relative entry names; rebuild the archive (or point "code"/"layers" at a folder).',
    { cause, details: { source: archive.source } },
  );
}
