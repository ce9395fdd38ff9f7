/**
 * The root filesystem of the local Lambda-compatible image: which host files and generated files
 * go where, and the content hash that tells whether an image built earlier is still current.
 * The layout follows the base image's contract (docs/lambda-apis.md#base-image-contract):
 * `/var/task`, `/var/runtime`, `/opt`, `/var/lang/bin/node`, and the same environment.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { BackendError, ErrorCodes } from '../../errors.ts';

const execFileAsync = promisify(execFile);

/** Bumped when the layout below changes, so images built by an older layout are rebuilt. */
export const BUILDER_VERSION = '2';

/** Host tools copied into the image: what the Kubernetes backend's code installer runs (code-payload.ts). */
const COREUTILS = ['cat', 'chmod', 'cp', 'ln', 'mkdir'] as const;

/**
 * Where the emulator and bootstrap live inside the image (docs/lambda-apis.md#filesystem-layout:
 * `/var/runtime`).
 */
export const IMAGE_EMULATOR_DIR = '/var/runtime/lambda-testkit-emulator';

export interface RootfsEntry {
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

const IMAGE_ENV: Record<string, string> = {
  LANG: 'en_US.UTF-8',
  TZ: ':/etc/localtime',
  PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
  LD_LIBRARY_PATH:
    '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
  LAMBDA_TASK_ROOT: '/var/task',
  LAMBDA_RUNTIME_DIR: '/var/runtime',
};

/**
 * NODE_PATH as the Node base images' bootstrap sets it (docs/lambda-apis.md#sandbox-environment), for a
 * Node major.
 */
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

/** What goes into the image besides the host's `/bin/sh` and zoneinfo. */
export interface RootfsSources {
  /** Folder holding the built `emulator/` and `bootstrap/`. */
  emulatorBuild: string;
  entrypointScript: string;
  nodeBinary: string;
}

/** The image's files, sorted by path: host Node and its libraries, `/bin/sh`, a minimal `/etc`, the emulator. */
export async function collectRootfs(options: RootfsSources): Promise<RootfsEntry[]> {
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

export async function contentHash(entries: RootfsEntry[], changes: string[]): Promise<string> {
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

export function imageChanges(nodeMajor: number): string[] {
  const env = { ...IMAGE_ENV, NODE_PATH: nodePath(nodeMajor) };
  return [
    'ENTRYPOINT ["/lambda-entrypoint.sh"]',
    'WORKDIR /var/task',
    ...Object.entries(env).map(([k, v]) => `ENV ${k}=${v}`),
  ];
}
