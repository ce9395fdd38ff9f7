/**
 * The entries of a code or layer zip in memory, with UNIX modes and symlinks kept: what a container
 * backend re-packs for its runtime (Docker: one tar copied in; Kubernetes: ConfigMap payloads).
 */
import yauzl from 'yauzl';
import { ConfigError, ErrorCodes } from '../../errors.ts';
import type { ResolvedArchive } from '../../function-spec.ts';
import { zipEntryKind } from './zip-entry-kind.ts';

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
