/** Importing the local image's root filesystem into the engine as a tagged image. */
import { createReadStream } from 'node:fs';
import { TarArchive } from 'archiver';
import type Dockerode from 'dockerode';
import { BackendError, ErrorCodes } from '../../errors.ts';
import { ImageLabels, LIBRARY_VERSION } from './labels.ts';
import type { LocalImage } from './local-image.ts';
import { BUILDER_VERSION, type RootfsEntry } from './local-image-rootfs.ts';

/** Reads an engine JSON-lines progress stream to its end; rejects on an `error` line. */
function drainJsonStream(stream: NodeJS.ReadableStream): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (chunk: Buffer | string) => {
      text += chunk.toString();
    });
    stream.on('error', reject);
    stream.on('end', () => {
      const messages: string[] = [];
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        let parsed: { error?: string; status?: string };
        try {
          parsed = JSON.parse(line) as { error?: string; status?: string };
        } catch {
          continue;
        }
        if (parsed.error) {
          reject(new Error(parsed.error));
          return;
        }
        if (parsed.status) messages.push(parsed.status);
      }
      resolve(messages);
    });
  });
}

async function existingImageHash(
  docker: Dockerode,
  tag: string,
): Promise<{ id: string; hash?: string } | undefined> {
  try {
    const info = await docker.getImage(tag).inspect();
    return { id: info.Id, hash: info.Config?.Labels?.[ImageLabels.hash] };
  } catch {
    return undefined;
  }
}

/**
 * Imports the entries as image `tag` (`POST /images/create?fromSrc=-`, what `docker import` does),
 * unless an image with the same content hash is already there (or `force`).
 */
export async function importImage(
  docker: Dockerode,
  image: { tag: string; hash: string; entries: RootfsEntry[]; changes: string[]; nodeVersion: string },
  options: { force?: boolean | undefined; progress: (message: string) => void },
): Promise<LocalImage> {
  const { tag, hash, entries, changes, nodeVersion } = image;
  const { progress } = options;
  const existing = await existingImageHash(docker, tag);
  if (!options.force && existing?.hash === hash) {
    progress(`${tag} is up to date (content hash ${hash.slice(0, 12)})`);
    return { tag, contentHash: hash, built: false };
  }

  progress(`importing ${entries.length} entries as ${tag}`);
  const tar = new TarArchive();
  // Fixed timestamps: the layer's bytes depend on the content only.
  const date = new Date(0);
  for (const e of entries) {
    const name = e.path.slice(1) + (e.type === 'directory' ? '/' : '');
    if (e.type === 'directory') tar.append(Buffer.alloc(0), { name, type: 'directory', mode: e.mode, date });
    else if (e.type === 'symlink') tar.symlink(name, e.target ?? '', e.mode);
    else if (e.content) tar.append(e.content, { name, mode: e.mode, date });
    else if (e.source) tar.append(createReadStream(e.source), { name, mode: e.mode, date });
  }
  const [repo, tagPart] = splitTag(tag);
  const labels = {
    [ImageLabels.hash]: hash,
    [ImageLabels.builder]: `lambda-testkit ${LIBRARY_VERSION} (builder ${BUILDER_VERSION})`,
    [ImageLabels.nodeVersion]: nodeVersion,
  };
  const allChanges = [...changes, ...Object.entries(labels).map(([k, v]) => `LABEL ${k}="${v}"`)];
  try {
    const finalized = tar.finalize();
    const response = await docker.importImage(tar, { repo, tag: tagPart, changes: allChanges });
    await Promise.all([drainJsonStream(response), finalized]);
  } catch (error) {
    throw new BackendError(
      ErrorCodes.IMAGE_UNAVAILABLE,
      `Building the local Lambda image ${tag} failed: ${error instanceof Error ? error.message : String(error)}.`,
      { cause: error, details: { tag } },
    );
  }
  // The previous image under this tag is now dangling: remove it when nothing uses it.
  const now = await existingImageHash(docker, tag);
  if (existing && now && existing.id !== now.id) {
    await docker
      .getImage(existing.id)
      .remove()
      .catch(() => {});
  }
  progress(`built ${tag} (content hash ${hash.slice(0, 12)})`);
  return { tag, contentHash: hash, built: true };
}

function splitTag(image: string): [string, string] {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? [image.slice(0, colon), image.slice(colon + 1)] : [image, 'latest'];
}
