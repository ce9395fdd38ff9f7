/**
 * A Lambda-compatible Node image built locally, without pulling anything.
 *
 * Where no registry is reachable (air-gapped CI, this project's CI), the official
 * `public.ecr.aws/lambda/nodejs` images cannot be pulled. This module assembles a root filesystem
 * from the host instead: the host's Node binary and the shared libraries it links (found with
 * `ldd`), the host's `/bin/sh`, and lambda-testkit's built emulator + bootstrap. It imports that
 * as an image (`POST /images/create?fromSrc=-`, what `docker import` does) with the base image's
 * contract (lambda-protocol.md §1.2): ENTRYPOINT `/lambda-entrypoint.sh`, WORKDIR `/var/task`,
 * `/var/runtime`, `/opt`, `/var/lang/bin/node`, and the same environment.
 *
 * The image is labelled with a hash of everything that went into it; building again with the
 * same inputs is a no-op. Select it with the image override (function `image`, backend `images`).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { lstat, open, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TarArchive } from 'archiver';
import type Dockerode from 'dockerode';
import { BackendError, ErrorCodes } from '../../errors.ts';
import { currentProcessIdentity, isProcessAlive, type ProcessIdentity } from '../shared/process-liveness.ts';
import { connectEngine } from './engine.ts';
import { ImageLabels, LIBRARY_VERSION } from './labels.ts';

const execFileAsync = promisify(execFile);

/** Bumped when the layout below changes, so images built by an older layout are rebuilt. */
const BUILDER_VERSION = '2';

/** Host tools copied into the image: what the Kubernetes backend's code installer uses. */
const COREUTILS = ['cat', 'chmod', 'cp', 'ln', 'mkdir'] as const;

/** Where the emulator and bootstrap live inside the image (lambda-protocol.md §3.2: `/var/runtime`). */
export const IMAGE_EMULATOR_DIR = '/var/runtime/lambda-testkit-emulator';

/** Repository of the locally built images; the tag is `<node major>-local`. */
export const LOCAL_IMAGE_REPOSITORY = 'lambda-testkit/nodejs';

/** The tag of the local image for a Node major version, e.g. `lambda-testkit/nodejs:24-local`. */
export function localImageTag(nodeMajor: number = Number(process.versions.node.split('.')[0])): string {
  return `${LOCAL_IMAGE_REPOSITORY}:${nodeMajor}-local`;
}

export interface BuildLocalImageOptions {
  /**
   * Image name and tag.
   * @default localImageTag() — `lambda-testkit/nodejs:<host Node major>-local`
   */
  tag?: string;
  /**
   * Folder holding the BUILT emulator and bootstrap as `emulator/` and `bootstrap/` (JavaScript).
   * @default the `dist` folder of @lambda-testkit/core
   */
  emulatorBuild?: string;
  /**
   * The `/lambda-entrypoint.sh` to install.
   * @default `src/emulator/lambda-entrypoint.sh` of @lambda-testkit/core
   */
  entrypointScript?: string;
  /**
   * The Node binary to install as `/var/lang/bin/node` (must be a Linux binary of the engine's architecture).
   * @default process.execPath
   */
  nodeBinary?: string;
  /**
   * Rebuild even when an image with the same content hash exists.
   * @default false
   */
  force?: boolean;
  /** Progress lines (what is collected, whether the build was skipped). */
  onProgress?: (message: string) => void;
  /** Engine client. @default the Testcontainers runtime client's dockerode */
  docker?: Dockerode;
}

export interface LocalImage {
  /** `repository:tag` to use as an image override. */
  tag: string;
  /** SHA-256 (hex) over the image's files and configuration. */
  contentHash: string;
  /** False when an image with this content hash already existed (nothing was built). */
  built: boolean;
}

interface RootfsEntry {
  /** Absolute path inside the image. */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  /** Host file to copy (files). */
  source?: string;
  /** Literal content (files). */
  content?: Buffer;
  /** Link target (symlinks). */
  target?: string;
}

/** @lambda-testkit/core's package folder (same relative path from `src/…` and `dist/…`). */
const corePackageDir = fileURLToPath(new URL('../../../', import.meta.url));

const IMAGE_ENV: Record<string, string> = {
  LANG: 'en_US.UTF-8',
  TZ: ':/etc/localtime',
  PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
  LD_LIBRARY_PATH:
    '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
  LAMBDA_TASK_ROOT: '/var/task',
  LAMBDA_RUNTIME_DIR: '/var/runtime',
};

/** NODE_PATH as the Node base images' bootstrap sets it (lambda-protocol.md §3.1), for a Node major. */
function nodePath(major: number): string {
  return `/opt/nodejs/node${major}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`;
}

/** Shared libraries a host binary loads, by the paths the dynamic loader uses (`ldd` output). */
async function sharedLibraries(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('ldd', [binary]));
  } catch (error) {
    throw new BackendError(
      ErrorCodes.IMAGE_UNAVAILABLE,
      `Cannot build the local Lambda image: "ldd ${binary}" failed. The local image is assembled from the host's ` +
        'Node and its shared libraries, which needs a Linux host with glibc (as the engine runs Linux images). ' +
        'On other hosts, use the official images (a reachable registry) or the process backend.',
      { cause: error, details: { binary } },
    );
  }
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)` or `/lib64/ld-linux-x86-64.so.2 (0x…)`
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

/** Every file under `dir` (recursively), as paths relative to it, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

/** Copies of built JavaScript only: declarations and source maps have no use at run time. */
function isRuntimeFile(rel: string): boolean {
  return !rel.endsWith('.d.ts') && !rel.endsWith('.map') && !rel.endsWith('.d.ts.map');
}

async function requireDir(dir: string, what: string): Promise<void> {
  const s = await stat(dir).catch(() => undefined);
  if (!s?.isDirectory()) {
    throw new BackendError(
      ErrorCodes.IMAGE_UNAVAILABLE,
      `Cannot build the local Lambda image: the built ${what} was expected at ${dir}, and it is not there. ` +
        'Build @lambda-testkit/core first (pnpm --filter @lambda-testkit/core build), or pass "emulatorBuild".',
      { details: { path: dir } },
    );
  }
}

async function collectRootfs(
  options: Required<Pick<BuildLocalImageOptions, 'emulatorBuild' | 'entrypointScript' | 'nodeBinary'>>,
): Promise<RootfsEntry[]> {
  const entries = new Map<string, RootfsEntry>();
  const add = (e: RootfsEntry) => entries.set(e.path, e);
  const dir = (path: string, mode = 0o755) => add({ path, type: 'directory', mode });

  for (const d of [
    '/bin',
    '/etc',
    '/opt',
    '/root',
    '/usr',
    '/usr/bin',
    '/usr/local',
    '/usr/local/bin',
    '/var',
  ])
    dir(d);
  for (const d of ['/var/lang', '/var/lang/bin', '/var/lang/lib', '/var/runtime', '/var/task']) dir(d);
  dir('/tmp', 0o1777);

  // The host's Node and the libraries it links, at the paths the loader looks them up by.
  add({ path: '/var/lang/bin/node', type: 'file', mode: 0o755, source: await realpath(options.nodeBinary) });
  // `/bin/sh` runs `/lambda-entrypoint.sh`; the host's (dash on Debian) with its libraries.
  const sh = await realpath('/bin/sh');
  add({ path: '/bin/sh', type: 'file', mode: 0o755, source: sh });
  const libs = new Set([...(await sharedLibraries(options.nodeBinary)), ...(await sharedLibraries(sh))]);
  // The few coreutils the Kubernetes backend's code installer runs (the official base images carry
  // coreutils, though no tar): see backends/kubernetes/code-payload.ts.
  for (const tool of COREUTILS) {
    const source = await realpath(`/bin/${tool}`).catch(() => realpath(`/usr/bin/${tool}`));
    add({ path: `/bin/${tool}`, type: 'file', mode: 0o755, source });
    for (const lib of await sharedLibraries(source)) libs.add(lib);
  }
  for (const lib of libs) {
    for (const parent of posixParents(lib)) if (!entries.has(parent)) dir(parent);
    add({ path: lib, type: 'file', mode: 0o755, source: await realpath(lib) });
  }

  // A minimal /etc: a user database (os.userInfo()), UTC as local time, hosts lookup order.
  add({
    path: '/etc/passwd',
    type: 'file',
    mode: 0o644,
    content: Buffer.from('root:x:0:0:root:/root:/bin/sh\n'),
  });
  add({ path: '/etc/group', type: 'file', mode: 0o644, content: Buffer.from('root:x:0:\n') });
  add({ path: '/etc/nsswitch.conf', type: 'file', mode: 0o644, content: Buffer.from('hosts: files dns\n') });
  const utc = ['/usr/share/zoneinfo/Etc/UTC', '/usr/share/zoneinfo/UTC'].find((p) => existsSync(p));
  if (utc) add({ path: '/etc/localtime', type: 'file', mode: 0o644, source: await realpath(utc) });

  // The emulator and bootstrap, built, with a package.json that makes their `.js` files ESM.
  const emulatorDir = join(options.emulatorBuild, 'emulator');
  const bootstrapDir = join(options.emulatorBuild, 'bootstrap');
  await requireDir(emulatorDir, 'emulator');
  await requireDir(bootstrapDir, 'bootstrap');
  dir(IMAGE_EMULATOR_DIR);
  add({
    path: `${IMAGE_EMULATOR_DIR}/package.json`,
    type: 'file',
    mode: 0o644,
    content: Buffer.from('{ "type": "module" }\n'),
  });
  // The emulator's "flattened" layout (see emulator/cli.ts): its files in the folder itself, the
  // bootstrap in `bootstrap/` beside them; `/lambda-entrypoint.sh` runs `<folder>/cli.js`.
  for (const [into, from] of [
    [IMAGE_EMULATOR_DIR, emulatorDir],
    [`${IMAGE_EMULATOR_DIR}/bootstrap`, bootstrapDir],
  ] as const) {
    for (const rel of (await listFiles(from)).filter(isRuntimeFile)) {
      const path = posix.join(into, rel.split(sep).join('/'));
      for (const parent of posixParents(path)) if (!entries.has(parent)) dir(parent);
      add({ path, type: 'file', mode: 0o644, source: join(from, rel) });
    }
  }

  // `/lambda-entrypoint.sh <handler>` starts the emulator (no AWS_LAMBDA_RUNTIME_API) as RIE would.
  add({ path: '/lambda-entrypoint.sh', type: 'file', mode: 0o755, source: options.entrypointScript });
  // `/var/runtime/bootstrap`: what the entrypoint execs when AWS_LAMBDA_RUNTIME_API is set (real Lambda's path).
  add({
    path: '/var/runtime/bootstrap',
    type: 'file',
    mode: 0o755,
    content: Buffer.from(
      `#!/bin/sh\nexec /var/lang/bin/node ${IMAGE_EMULATOR_DIR}/bootstrap/node/index.js "$@"\n`,
    ),
  });

  return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function posixParents(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(`/${parts.slice(0, i).join('/')}`);
  return out;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

async function contentHash(entries: RootfsEntry[], changes: string[]): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`lambda-testkit local image builder ${BUILDER_VERSION}\n`);
  for (const c of changes) hash.update(`change ${c}\n`);
  for (const e of entries) {
    let body = '';
    if (e.type === 'symlink') body = e.target ?? '';
    else if (e.content) body = createHash('sha256').update(e.content).digest('hex');
    else if (e.source) body = await sha256File(e.source);
    hash.update(`${e.type} ${e.path} ${e.mode.toString(8)} ${body}\n`);
  }
  return hash.digest('hex');
}

function imageChanges(nodeMajor: number): string[] {
  const env = { ...IMAGE_ENV, NODE_PATH: nodePath(nodeMajor) };
  return [
    'ENTRYPOINT ["/lambda-entrypoint.sh"]',
    'WORKDIR /var/task',
    ...Object.entries(env).map(([k, v]) => `ENV ${k}=${v}`),
  ];
}

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

const inFlight = new Map<string, Promise<LocalImage>>();

/**
 * Builds (or finds, by content hash) the local Lambda-compatible Node image and returns its tag.
 * Concurrent calls for the same tag in one process share one build.
 */
export function buildLocalImage(options: BuildLocalImageOptions = {}): Promise<LocalImage> {
  const tag = options.tag ?? localImageTag();
  const running = inFlight.get(tag);
  if (running) return running;
  const build = buildOnce(tag, options).finally(() => inFlight.delete(tag));
  inFlight.set(tag, build);
  return build;
}

async function buildOnce(tag: string, options: BuildLocalImageOptions): Promise<LocalImage> {
  const progress = options.onProgress ?? (() => {});
  const nodeBinary = options.nodeBinary ?? process.execPath;
  const nodeVersion =
    nodeBinary === process.execPath
      ? process.versions.node
      : (await execFileAsync(nodeBinary, ['-p', 'process.versions.node'])).stdout.trim();
  const nodeMajor = Number(nodeVersion.split('.')[0]);
  const entrypointScript =
    options.entrypointScript ?? join(corePackageDir, 'src/emulator/lambda-entrypoint.sh');
  if (!(await lstat(entrypointScript).catch(() => undefined))?.isFile()) {
    throw new BackendError(
      ErrorCodes.IMAGE_UNAVAILABLE,
      `Cannot build the local Lambda image: the entrypoint script was expected at ${entrypointScript}, and it is not there. ` +
        'Pass "entrypointScript", or reinstall @lambda-testkit/core (it ships src/emulator/lambda-entrypoint.sh).',
      { details: { path: entrypointScript } },
    );
  }
  const docker = options.docker ?? (await connectEngine()).container.dockerode;

  progress(`collecting the root filesystem for ${tag} (Node ${nodeVersion} from ${nodeBinary})`);
  const entries = await collectRootfs({
    emulatorBuild: options.emulatorBuild ?? join(corePackageDir, 'dist'),
    entrypointScript,
    nodeBinary,
  });
  const changes = imageChanges(nodeMajor);
  const hash = await contentHash(entries, changes);

  // Several suites (processes) may ask for the image at once: one builds, the others then find it.
  return withBuildLock(tag, progress, () =>
    importImage(docker, tag, hash, entries, changes, nodeVersion, options),
  );
}

async function importImage(
  docker: Dockerode,
  tag: string,
  hash: string,
  entries: RootfsEntry[],
  changes: string[],
  nodeVersion: string,
  options: BuildLocalImageOptions,
): Promise<LocalImage> {
  const progress = options.onProgress ?? (() => {});
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

/** How long a build waits for another process's build of the same tag. */
const LOCK_WAIT_MS = 10 * 60_000;
/** A lock file nobody could finish writing (its writer died at once) is stale after this. */
const LOCK_UNREADABLE_STALE_MS = 30_000;

/** Serialises builds of one tag across processes on this host, with a lock file holding its owner. */
async function withBuildLock<T>(
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

function splitTag(image: string): [string, string] {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? [image.slice(0, colon), image.slice(colon + 1)] : [image, 'latest'];
}
