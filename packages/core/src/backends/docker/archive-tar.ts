/**
 * Code and layer zips as one tar stream for the container's filesystem.
 *
 * Why a tar copied in, not a bind mount: a copy works against remote engines (DOCKER_HOST=tcp://…)
 * and Docker-in-Docker, where host paths mean nothing to the engine (issue 4). The zips are read in
 * memory (yauzl) and re-packed (archiver); nothing is staged on disk.
 */
import type { Readable } from 'node:stream';
import { TarArchive } from 'archiver';
import yauzl from 'yauzl';
import { ConfigError, ErrorCodes } from '../../errors.ts';
import type { ResolvedArchive } from '../../function-spec.ts';
import { zipEntryKind } from '../shared/zip-entry-kind.ts';

export interface TarEntry {
  /** Path relative to the extraction root, no leading slash; folders end with `/`. */
  name: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  data: Buffer;
}

/** The entries of one zip, with UNIX modes and symlinks kept. */
export async function readZipEntries(archive: ResolvedArchive): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  let zip: yauzl.ZipFile | undefined;
  try {
    // yauzl rejects absolute and `..` entry names (its filename validation), so nothing escapes the root.
    zip = await yauzl.fromBufferPromise(archive.zip, { lazyEntries: true });
    for await (const entry of zip.eachEntry()) {
      const { type, permissions } = zipEntryKind(entry);
      if (type === 'directory') {
        const name = entry.fileName.endsWith('/') ? entry.fileName : `${entry.fileName}/`;
        entries.push({ name, type, mode: permissions || 0o755, data: Buffer.alloc(0) });
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
      const data = Buffer.concat(chunks);
      entries.push({
        name: entry.fileName,
        type,
        mode: type === 'symlink' ? 0o777 : permissions || 0o644,
        data,
      });
    }
  } catch (cause) {
    throw new ConfigError(
      ErrorCodes.CODE_NOT_FOUND,
      `Could not read the zip of ${archive.source}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'Expected a valid zip with relative entry names; rebuild the archive (or point "code"/"layers" at a folder).',
      { cause, details: { source: archive.source } },
    );
  } finally {
    zip?.close();
  }
  return entries;
}

/** Merges archives in attach order: a later archive's entry replaces an earlier one's at the same path. */
async function mergeArchives(
  archives: readonly ResolvedArchive[],
  prefix: string,
  into: Map<string, TarEntry>,
) {
  for (const archive of archives) {
    for (const entry of await readZipEntries(archive)) {
      const name = prefix + entry.name;
      into.set(name.replace(/\/$/, ''), { ...entry, name });
    }
  }
}

/**
 * One tar to extract at `/`: the code under `var/task/` and the layers, merged in attach order as
 * Lambda overlays them, under `opt/` (docs/lambda-protocol.md#filesystem-layout). One copy call per launch.
 */
export async function sandboxFilesystemTar(
  code: ResolvedArchive,
  layers: readonly ResolvedArchive[],
): Promise<Readable> {
  const merged = new Map<string, TarEntry>();
  await mergeArchives([code], 'var/task/', merged);
  await mergeArchives(layers, 'opt/', merged);
  const tar = new TarArchive();
  const date = new Date(0);
  for (const entry of [...merged.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.type === 'symlink') tar.symlink(entry.name, entry.data.toString('utf8'), entry.mode);
    else tar.append(entry.data, { name: entry.name, type: entry.type, mode: entry.mode, date });
  }
  tar
    .finalize()
    .catch((error: unknown) => tar.destroy(error instanceof Error ? error : new Error(String(error))));
  return tar;
}
