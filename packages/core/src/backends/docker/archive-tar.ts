/**
 * Code and layer zips as one tar stream for the container's filesystem.
 *
 * Why a tar copied in, not a bind mount: a copy works against remote engines (DOCKER_HOST=tcp://…)
 * and Docker-in-Docker, where host paths mean nothing to the engine (issue 4). The zips are read in
 * memory (yauzl) and re-packed (archiver); nothing is staged on disk.
 */
import type { Readable } from 'node:stream';
import { TarArchive } from 'archiver';
import type { ResolvedArchive } from '../../function-spec.ts';
import { readZipEntries, type TarEntry } from '../shared/zip-entries.ts';

export { readZipEntries, type TarEntry } from '../shared/zip-entries.ts';

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
 * Lambda overlays them, under `opt/` (docs/lambda-apis.md#filesystem-layout). One copy call per launch.
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
