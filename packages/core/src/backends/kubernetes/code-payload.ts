/**
 * How code and layers reach `/var/task` and `/opt` of a Pod: no registry push, no hostPath (one
 * node only), and no `tar` (the Lambda base images carry none).
 *
 * The mechanism (docs/kubernetes.md, "Code delivery"):
 * 1. The code zip and the layer zips (merged in attach order, as Lambda overlays them) become files
 *    under `task/` and `opt/`, packed into ConfigMaps (`binaryData`) of at most PAYLOAD_BYTES each,
 *    the per-object limit being 1 MiB. A file bigger than that is cut into parts, each in its own key.
 *    The ConfigMaps are created once per content (and backend session) and shared by every Pod of it.
 * 2. The Pod mounts them as ONE projected volume whose `items` put each key at its path with its
 *    mode: the kubelet itself lays out the tree, so the image needs nothing to unpack it.
 * 3. An init container of the same image runs `install.sh` (also in the volume) with POSIX `sh` and
 *    coreutils (`cp`, `cat`, `mkdir`, `chmod`, `ln`, which the base images do carry): it copies the
 *    image's own `/opt` and `/var/task`, then the tree, into two emptyDir volumes, joins the parts of
 *    big files, and makes symlinks and empty folders (which projections cannot hold). The runtime
 *    container mounts those emptyDirs at `/var/task` and `/opt`.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { V1ConfigMap, V1Volume, V1VolumeProjection } from '@kubernetes/client-node';
import type { ResolvedFunction } from '../../function-spec.ts';
import { readZipEntries, type TarEntry } from '../shared/zip-entries.ts';

/** Bytes of file content per ConfigMap; the API server refuses objects over 1 MiB (keys included). */
export const PAYLOAD_BYTES = 900 * 1024;

/** Where the init container sees the projected payload and the two emptyDirs. */
export const PAYLOAD_MOUNT = '/lambda-testkit/payload';
export const TASK_STAGING = '/lambda-testkit/task';
export const OPT_STAGING = '/lambda-testkit/opt';
export const INSTALL_SCRIPT = 'install.sh';

export interface PayloadMap {
  /** ConfigMap name. */
  name: string;
  /** Key → bytes. */
  data: Map<string, Buffer>;
  /** Where each key lands in the projected volume, with its mode. */
  items: Array<{ key: string; path: string; mode: number }>;
}

export interface CodePayload {
  /** SHA-256 (hex) over the code and layer zips: equal inputs share one payload. */
  hash: string;
  maps: PayloadMap[];
  /** Bytes of file content in all maps. */
  bytes: number;
}

/** Identifies the code of a function: its zip and its layers' zips, in order. */
export function payloadHash(fn: Pick<ResolvedFunction, 'code' | 'layers'>): string {
  const hash = createHash('sha256');
  hash.update(`code ${fn.code.sha256}\n`);
  for (const layer of fn.layers) hash.update(`layer ${layer.sha256}\n`);
  return hash.digest('hex');
}

/** `'…'` for sh: a single-quoted word, its own quotes escaped. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The merged tree: code under `task/`, layers (later wins) under `opt/`, no trailing slashes. */
async function mergedEntries(fn: Pick<ResolvedFunction, 'code' | 'layers'>): Promise<Map<string, TarEntry>> {
  const merged = new Map<string, TarEntry>();
  const add = async (archives: ResolvedFunction['layers'], prefix: string) => {
    for (const archive of archives) {
      for (const entry of await readZipEntries(archive)) {
        const path = prefix + entry.name.replace(/\/$/, '');
        merged.set(path, { ...entry, name: path });
      }
    }
  };
  await add([fn.code], 'task/');
  await add(fn.layers, 'opt/');
  return merged;
}

/**
 * Packs a function's code and layers into ConfigMaps. `namePrefix` gets `-<n>` appended per map.
 * Pure: nothing is sent to the cluster here.
 */
export interface PayloadLayout {
  /** Bytes per ConfigMap. @default PAYLOAD_BYTES */
  chunkBytes?: number;
  /** Where the init container sees the folders (tests run the script elsewhere). @default the Pod's paths */
  paths?: { payload: string; task: string; opt: string; imageTask: string; imageOpt: string };
}

const POD_PATHS = {
  payload: PAYLOAD_MOUNT,
  task: TASK_STAGING,
  opt: OPT_STAGING,
  imageTask: '/var/task',
  imageOpt: '/opt',
};

export async function buildCodePayload(
  fn: Pick<ResolvedFunction, 'code' | 'layers'>,
  namePrefix: string,
  layout: PayloadLayout = {},
): Promise<CodePayload> {
  const chunkBytes = layout.chunkBytes ?? PAYLOAD_BYTES;
  const paths = layout.paths ?? POD_PATHS;
  const entries = [...(await mergedEntries(fn)).values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  const maps: PayloadMap[] = [];
  let current: PayloadMap | undefined;
  let used = 0;
  let bytes = 0;
  let keyCount = 0;
  const put = (data: Buffer, path: string, mode: number) => {
    if (!current || used + data.length > chunkBytes) {
      current = { name: `${namePrefix}-${maps.length}`, data: new Map(), items: [] };
      maps.push(current);
      used = 0;
    }
    const key = `f${keyCount++}`;
    current.data.set(key, data);
    current.items.push({ key, path, mode });
    used += data.length + key.length;
    bytes += data.length;
  };

  const script: string[] = [
    '#!/bin/sh',
    '# Written by lambda-testkit: lays out /var/task and /opt from the projected payload.',
    'set -e',
    'umask 022',
    // The image's own content of /opt and /var/task first (the emptyDirs hide it in the runtime container).
    `[ -d ${paths.imageOpt} ] && cp -R ${paths.imageOpt}/. ${paths.opt}/`,
    `[ -d ${paths.imageTask} ] && cp -R ${paths.imageTask}/. ${paths.task}/`,
    `[ -d ${paths.payload}/task ] && cp -RL ${paths.payload}/task/. ${paths.task}/`,
    `[ -d ${paths.payload}/opt ] && cp -RL ${paths.payload}/opt/. ${paths.opt}/`,
  ];
  const staged = (path: string) =>
    path.startsWith('task/') ? `${paths.task}/${path.slice(5)}` : `${paths.opt}/${path.slice(4)}`;
  let partFiles = 0;
  for (const entry of entries) {
    const target = staged(entry.name);
    if (entry.type === 'directory') {
      script.push(`mkdir -p ${shQuote(target)}`);
    } else if (entry.type === 'symlink') {
      script.push(`mkdir -p ${shQuote(posix.dirname(target))}`);
      script.push(`ln -sfn ${shQuote(entry.data.toString('utf8'))} ${shQuote(target)}`);
    } else if (entry.data.length <= chunkBytes) {
      put(entry.data, entry.name, entry.mode & 0o777);
    } else {
      // A big file: parts under parts/<n>/, joined in order by the script.
      const dir = `parts/${partFiles++}`;
      const parts: string[] = [];
      for (let offset = 0, i = 0; offset < entry.data.length; offset += chunkBytes, i++) {
        const part = `${dir}/${String(i).padStart(5, '0')}`;
        put(entry.data.subarray(offset, offset + chunkBytes), part, 0o644);
        parts.push(`${paths.payload}/${part}`);
      }
      script.push(`mkdir -p ${shQuote(posix.dirname(target))}`);
      script.push(`cat ${parts.join(' ')} > ${shQuote(target)}`);
      script.push(`chmod ${(entry.mode & 0o777).toString(8)} ${shQuote(target)}`);
    }
  }
  script.push('exit 0');
  put(Buffer.from(`${script.join('\n')}\n`), INSTALL_SCRIPT, 0o755);
  return { hash: payloadHash(fn), maps, bytes };
}

/** The ConfigMap objects of a payload, labelled by the caller. */
export function payloadConfigMaps(
  payload: CodePayload,
  metadata: Required<Pick<NonNullable<V1ConfigMap['metadata']>, 'labels' | 'annotations'>> &
    Pick<NonNullable<V1ConfigMap['metadata']>, 'ownerReferences'>,
): V1ConfigMap[] {
  return payload.maps.map((map) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: map.name, ...metadata },
    binaryData: Object.fromEntries([...map.data].map(([k, v]) => [k, v.toString('base64')])),
  }));
}

/** The projected volume that mounts a payload at PAYLOAD_MOUNT in the init container. */
export function payloadVolume(payload: CodePayload, name: string): V1Volume {
  const sources: V1VolumeProjection[] = payload.maps.map((map) => ({
    configMap: { name: map.name, items: map.items.map((i) => ({ key: i.key, path: i.path, mode: i.mode })) },
  }));
  return { name, projected: { sources, defaultMode: 0o644 } };
}
