/**
 * File-system confinement of a process-backend runtime (docs/emulator.md#file-system): on Linux the
 * runtime starts in its own mount namespace, made through an unprivileged user namespace with
 * util-linux's `unshare`, where
 *
 *   /var/task     the instance's code, read-only (LAMBDA_TASK_ROOT, as on Lambda)
 *   /opt          the instance's merged layers, read-only
 *   /var/runtime  the instance's runtime folder, read-only (LAMBDA_RUNTIME_DIR)
 *   /var/lang     the Node that runs the pool, read-only (Lambda's place for it; PATH starts there)
 *   /tmp          the instance's own scratch folder (also /var/tmp); /dev/shm a private tmpfs
 *   /var          read-only; the host's own /var entries stay reachable at their paths
 *
 * so a handler using Lambda's absolute paths works and cannot reach the host's /tmp or /opt (nor
 * another instance's). Everything is mounted by one `mount -a` over a table written into the
 * instance folder, then the launcher enters /var/task and execs the runtime's command (same pid: the
 * emulator's group signals, freeze and memory watch work unchanged). Host paths the command names
 * (Node, the bootstrap) that a mount would hide are bound elsewhere first and the command rewritten.
 *
 * mount_namespaces(7), user_namespaces(7); unshare(1), mount(8) and fstab(5) of util-linux.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, resolve, sep } from 'node:path';
import type { SandboxFolders } from './process-environment.ts';

/** `false`/`0` turns confinement off (the backend's `confineFileSystem` option wins over it). */
export const CONFINE_VARIABLE = 'LAMBDA_TESTKIT_CONFINE';
/** Where util-linux's `unshare` is; found on PATH when unset. */
export const UNSHARE_VARIABLE = 'LAMBDA_TESTKIT_UNSHARE';

/** The folders a confined runtime sees (what LAMBDA_TASK_ROOT, HOME, NODE_PATH… point at). */
export const CONFINED_FOLDERS: SandboxFolders = {
  task: '/var/task',
  opt: '/opt',
  runtime: '/var/runtime',
  tmp: '/tmp',
};
/** Lambda's folder of the language runtime: the pool's Node is bound there. */
export const CONFINED_NODE_PREFIX = '/var/lang';
/** Where the shared compile cache is bound. */
const COMPILE_CACHE_TARGET = '/var/lambda-testkit/compile-cache';
/** Where other hidden host paths the runtime's command names are bound. */
const REVEAL_ROOT = '/var/lambda-testkit/host';
/** Folders the namespace covers: a host path below one of them is hidden inside. */
const COVERED = ['/tmp', '/opt', '/var'] as const;
/**
 * A read-only bind. nosuid and nodev are named because a user namespace may not drop them: where the
 * source's mount has them (a tmpfs /tmp usually does), util-linux's remount to read-only must keep them.
 */
const READ_ONLY_BIND = 'bind,ro,nosuid,nodev';
/** /var entries the namespace owns; the host's entries of the same name are not carried over. */
const OWN_VAR_ENTRIES = new Set(['task', 'runtime', 'lang', 'tmp', 'lambda-testkit']);

export interface ConfinementTools {
  unshare: string;
  mount: string;
  shell: string;
}

export type ConfinementSupport =
  | { available: true; tools: ConfinementTools }
  | { available: false; reason: string };

export interface ConfinePlan {
  /** The instance's folder; the mount table and the namespace's /var skeleton are written into it. */
  dir: string;
  /** The instance's folders on the host. */
  folders: SandboxFolders;
  /** The Node binary the emulator starts the runtime with (`process.execPath`). */
  node: string;
  /** Other host paths the runtime's command names (the bootstrap, the emulator next to it). */
  keep: readonly string[];
  /** Node's compile cache shared by the runtimes (NODE_COMPILE_CACHE), bound writable if given. */
  compileCache?: string;
}

export interface ConfinedLaunch {
  /** The argv the emulator puts before the runtime's command (RUNTIME_WRAPPER_VARIABLE). */
  wrapper: string[];
  /** The folders as the runtime sees them. */
  folders: SandboxFolders;
  /** Node's `bin` folder as the runtime sees it (first on PATH). */
  nodeBin: string;
  /** The compile cache as the runtime sees it, when the plan named one. */
  compileCache?: string;
}

/** Whether confinement is asked for: the option when given, else the environment, else on. */
export function confinementWanted(
  option: boolean | undefined,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (option !== undefined) return option;
  const raw = (env[CONFINE_VARIABLE] ?? '').trim().toLowerCase();
  return !(raw === 'false' || raw === '0' || raw === 'off');
}

const probes = new Map<string, Promise<ConfinementSupport>>();

/**
 * Whether runtimes can be confined here, found once per process (and per `unshare` location) by
 * running the launcher for real on a scratch mount table: a kernel, sysctl or security module that
 * forbids unprivileged user namespaces, or their mounts, answers here and not at a launch.
 */
export function detectConfinement(env: NodeJS.ProcessEnv = process.env): Promise<ConfinementSupport> {
  const key = `${env[UNSHARE_VARIABLE] ?? ''}\0${env.PATH ?? ''}`;
  let probe = probes.get(key);
  if (!probe) {
    probe = probeConfinement(env);
    probes.set(key, probe);
  }
  return probe;
}

async function probeConfinement(env: NodeJS.ProcessEnv): Promise<ConfinementSupport> {
  if (process.platform !== 'linux') {
    return { available: false, reason: `mount namespaces exist on Linux only (this is ${process.platform})` };
  }
  const explicit = env[UNSHARE_VARIABLE];
  const unshare = explicit ? (isExecutable(explicit) ? explicit : undefined) : findTool('unshare', env);
  if (!unshare) {
    return {
      available: false,
      reason: explicit
        ? `${UNSHARE_VARIABLE} names "${explicit}", which is not an executable file`
        : "util-linux's unshare was not found on PATH",
    };
  }
  const mount = findTool('mount', env);
  if (!mount) return { available: false, reason: "util-linux's mount was not found on PATH" };
  const tools: ConfinementTools = { unshare, mount, shell: '/bin/sh' };
  const scratch = await mkdtemp(join(tmpdir(), 'lambda-testkit-confine-'));
  try {
    // The mounts the launcher makes, in small: a read-only bind and a tmpfs.
    await Promise.all([mkdir(join(scratch, 'a')), mkdir(join(scratch, 'b'))]);
    const table = join(scratch, 'fstab');
    await writeFile(
      table,
      mountTable([
        [join(scratch, 'a'), join(scratch, 'b'), 'none', READ_ONLY_BIND],
        ['lambda-testkit-probe', join(scratch, 'a'), 'tmpfs', 'mode=700'],
      ]),
    );
    const failure = await new Promise<string | undefined>((done) => {
      execFile(
        tools.unshare,
        [...launcherArgs(tools, '/', []), table, '/bin/sh', '-c', 'exit 0'],
        { timeout: 10_000, env: { PATH: env.PATH ?? '' } },
        (error, _stdout, stderr) => {
          if (!error) return done(undefined);
          const said = stderr.trim().split('\n').filter(Boolean).at(-1);
          done(said ?? error.message);
        },
      );
    });
    return failure === undefined ? { available: true, tools } : { available: false, reason: failure };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Why confinement cannot apply to instances under `rootDir` (undefined: it can). */
export function rootDirProblem(rootDir: string): string | undefined {
  // The namespace's /var is bound from the instance folder: one inside /var would hide itself.
  return isUnder(resolve(rootDir), '/var')
    ? `the process backend's rootDir (${rootDir}) lies under /var, which the namespace replaces`
    : undefined;
}

/**
 * Writes the instance's mount table and /var skeleton, and returns the launcher argv with the
 * folders the runtime will see.
 */
export async function prepareConfinement(
  plan: ConfinePlan,
  tools: ConfinementTools,
): Promise<ConfinedLaunch> {
  const { dir, folders } = plan;
  const hostVar = join(dir, 'host-var');
  const varRoot = join(dir, 'var');
  // Sources below /var are read through the host's /var bound aside, once /var is replaced.
  const source = (p: string) => (isUnder(p, '/var') ? join(hostVar, p.slice('/var'.length)) : p);

  const nodeBinDir = dirname(plan.node);
  const nodePrefix = basename(nodeBinDir) === 'bin' ? dirname(nodeBinDir) : nodeBinDir;
  const nodeTarget = nodePrefix === nodeBinDir ? `${CONFINED_NODE_PREFIX}/bin` : CONFINED_NODE_PREFIX;
  const rewrites: Array<[string, string]> = [[nodePrefix, nodeTarget]];
  const reveals = new Map<string, string>();
  const fileTops = new Set<string>();
  for (const path of plan.keep) {
    const top = coveredTop(path);
    const stat = top && !isUnder(path, nodePrefix) ? statSync(top, { throwIfNoEntry: false }) : undefined;
    if (!top || !stat) continue;
    reveals.set(top, `${REVEAL_ROOT}${top}`);
    if (!stat.isDirectory()) fileTops.add(top);
  }
  for (const [top, target] of reveals) rewrites.push([top, target]);

  const hostEntries = listDirectories('/var').filter((n) => !OWN_VAR_ENTRIES.has(n));
  const skeleton = [
    ...hostEntries,
    'task',
    'runtime',
    'tmp',
    nodeTarget.slice('/var/'.length),
    ...[...reveals.values()].map((t) => t.slice('/var/'.length)),
    ...(plan.compileCache ? [COMPILE_CACHE_TARGET.slice('/var/'.length)] : []),
  ];
  if (plan.compileCache) await mkdir(plan.compileCache, { recursive: true });
  await mkdir(hostVar);
  await Promise.all(skeleton.map((entry) => mkdir(join(varRoot, entry), { recursive: true })));
  for (const top of fileTops) {
    // A file is bound onto a file: replace the folder made above by an empty one.
    const target = join(varRoot, `${REVEAL_ROOT}${top}`.slice('/var/'.length));
    await rm(target, { recursive: true });
    await writeFile(target, '');
  }

  // Order matters: every source is read before a later mount hides it.
  const rows: MountRow[] = [
    ['/var', hostVar, 'none', 'rbind'],
    [varRoot, '/var', 'none', READ_ONLY_BIND],
    ...hostEntries.map((n): MountRow => [join(hostVar, n), `/var/${n}`, 'none', 'rbind']),
    [source(folders.task), CONFINED_FOLDERS.task, 'none', READ_ONLY_BIND],
    [source(folders.runtime), CONFINED_FOLDERS.runtime, 'none', READ_ONLY_BIND],
    [source(nodePrefix), nodeTarget, 'none', READ_ONLY_BIND],
    ...[...reveals].map(([top, target]): MountRow => [source(top), target, 'none', READ_ONLY_BIND]),
    [source(folders.tmp), '/var/tmp', 'none', 'bind'],
    ...(plan.compileCache
      ? [[source(plan.compileCache), COMPILE_CACHE_TARGET, 'none', 'bind'] as MountRow]
      : []),
  ];
  const optRow: MountRow = [source(folders.opt), '/opt', 'none', READ_ONLY_BIND];
  const tmpRow: MountRow = [source(folders.tmp), '/tmp', 'none', 'bind'];
  // The instance folder must stay reachable until its last bind: cover its own ancestor last.
  rows.push(...(isUnder(dir, '/opt') ? [tmpRow, optRow] : [optRow, tmpRow]));
  rows.push(['lambda-testkit-shm', '/dev/shm', 'tmpfs', 'mode=1777,nosuid,nodev']);
  const table = join(dir, 'fstab');
  await writeFile(table, mountTable(rows));
  return {
    wrapper: [tools.unshare, ...launcherArgs(tools, CONFINED_FOLDERS.task, rewrites), table],
    folders: CONFINED_FOLDERS,
    nodeBin: `${CONFINED_NODE_PREFIX}/bin`,
    ...(plan.compileCache ? { compileCache: COMPILE_CACHE_TARGET } : {}),
  };
}

type MountRow = [source: string, target: string, type: string, options: string];

/** fstab(5) lines; whitespace and backslashes in paths are written as octal escapes. */
function mountTable(rows: readonly MountRow[]): string {
  const field = (s: string) =>
    s.replace(/[\\\s]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return rows.map((r) => `${r.map(field).join(' ')} 0 0\n`).join('');
}

/**
 * `unshare` arguments up to the mount table's path (the script's `$0`); the runtime's command follows.
 * The script mounts the table, enters `cwd`, rewrites the command's hidden host paths and execs it.
 */
function launcherArgs(
  tools: ConfinementTools,
  cwd: string,
  rewrites: ReadonlyArray<[string, string]>,
): string[] {
  const cases = rewrites
    .map(
      ([from, to]) => `    ${quote(from)}|${quote(`${from}/`)}*) a=${quote(to)}"\${a#${quote(from)}}" ;;\n`,
    )
    .join('');
  const script =
    `${quote(tools.mount)} -a -T "$0" || exit 126\n` +
    `cd ${quote(cwd)} || exit 126\n` +
    // The shell's own PWD and OLDPWD (the host folder it started in) are not the runtime's.
    'unset OLDPWD PWD\n' +
    (cases ? `for a do\n  shift\n  case $a in\n${cases}  esac\n  set -- "$@" "$a"\ndone\n` : '') +
    'exec "$@"\n';
  // Root of the user namespace only (the host user outside): it may mount there and nowhere else.
  return ['--user', '--map-root-user', '--mount', '--', tools.shell, '-c', script];
}

/** A POSIX shell single-quoted word. */
function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function isUnder(path: string, root: string): boolean {
  return path === root || path.startsWith(root + sep);
}

/** `/tmp/<first>` or `/opt/<first>` (or a hidden /var entry) when a mount would hide `path`. */
function coveredTop(path: string): string | undefined {
  const abs = resolve(path);
  for (const root of COVERED) {
    if (!isUnder(abs, root) || abs === root) continue;
    const first = abs.slice(root.length + 1).split(sep)[0] ?? '';
    if (root === '/var' && !OWN_VAR_ENTRIES.has(first)) return undefined;
    return `${root}/${first}`;
  }
  return undefined;
}

/** Names of the folders (or links to folders) in `dir`. */
function listDirectories(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => {
      try {
        return statSync(join(dir, name)).isDirectory();
      } catch {
        return false; // a dangling link
      }
    });
  } catch {
    return [];
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** An executable on PATH, or in the system folders a minimal PATH may leave out. */
function findTool(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  for (const d of dirs) if (d && isExecutable(join(d, name))) return join(d, name);
  return undefined;
}
