/**
 * Where process-backend instances live on disk, and the sweep of what dead runs left.
 *
 *   <root>/<runId>/owner.json                 the pool process (pid + start time, shared/owner-file.ts)
 *   <root>/<runId>/<instanceId>/instance.json the instance id (written once the folder holds a function)
 *   <root>/<runId>/<instanceId>/task/         LAMBDA_TASK_ROOT (the unpacked code)
 *   <root>/<runId>/<instanceId>/opt/          the merged layers
 *   <root>/<runId>/<instanceId>/runtime/      LAMBDA_RUNTIME_DIR (empty: the runtime is lambda-testkit's)
 *   <root>/<runId>/<instanceId>/tmp/          the instance's /tmp, TMPDIR and HOME
 *   <root>/<runId>/<instanceId>/fstab, var/, host-var/   the mount namespace of a confined runtime (confine.ts)
 *   <root>/<runId>/spare-<id>/…               a spare runtime's folder: the same, until a launch takes
 *                                             it (the folder then keeps its name)
 *   <root>/.compile-cache/                    Node's compile cache of the runtime's bootstrap
 *
 * The processes of an instance are found by the LAMBDA_TESTKIT_SANDBOX (the instance folder) they
 * started with (sandbox-processes.ts).
 * Folders of older versions may hold an `instance.json` with the pid of a per-instance emulator.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, sep } from 'node:path';
import { readOwnerFile, writeOwnerFile } from '../shared/owner-file.ts';
import type { ProcessIdentity } from '../shared/process-liveness.ts';
import { isOwnerGone } from '../shared/run-owner.ts';
import type { SandboxFolders } from './process-environment.ts';
import { stopSandbox } from './sandbox-processes.ts';

export const INSTANCE_FILE = 'instance.json';

/** `os.tmpdir()/lambda-testkit`. */
export function defaultRootDir(): string {
  return join(tmpdir(), 'lambda-testkit');
}

/** Ids become folder names: anything but `[A-Za-z0-9._-]` is replaced, and `.`/`..` cannot occur. */
export function safeSegment(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9._-]/g, '_');
  return /^\.*$/.test(cleaned) ? `_${cleaned}` : cleaned;
}

export interface InstanceLayout extends SandboxFolders {
  /** `<root>/<runId>/<instanceId>`. */
  dir: string;
}

export function instanceLayout(runRoot: string, instanceId: string): InstanceLayout {
  const dir = join(runRoot, safeSegment(instanceId));
  return {
    dir,
    task: join(dir, 'task'),
    opt: join(dir, 'opt'),
    runtime: join(dir, 'runtime'),
    tmp: join(dir, 'tmp'),
  };
}

/**
 * Makes `<root>/<runId>` with an owner file, or makes it again: another backend of the same run
 * (same process) removes the folder when it closes and finds no instance folder left in it.
 */
export async function ensureRunRoot(root: string, runId: string): Promise<string> {
  const dir = join(root, safeSegment(runId));
  await mkdir(dir, { recursive: true });
  if (!(await readOwnerFile(dir))) await writeOwnerFile(dir, runId);
  return dir;
}

/** Removes a run folder unless an instance folder is still in it (another backend's, of the same run). */
export async function removeRunRootIfUnused(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries || entries.some((e) => e.isDirectory())) return;
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Creates the instance's folders; fails (EEXIST) when the instance folder already exists. */
export async function createInstanceFolders(layout: InstanceLayout): Promise<void> {
  await mkdir(layout.dir);
  await Promise.all([layout.task, layout.opt, layout.runtime, layout.tmp].map((d) => mkdir(d)));
}

/** Marks the folder as an instance's (a spare's folder has none until it is given out). */
export async function writeInstanceRecord(layout: InstanceLayout, instanceId: string): Promise<void> {
  await writeFile(join(layout.dir, INSTANCE_FILE), `${JSON.stringify({ instanceId })}\n`);
}

/** Folder names of spares (process-backend.ts). */
export const SPARE_PREFIX = 'spare-';

/** The process group an older version recorded for the instance (its emulator), if any. */
async function readInstanceRecord(dir: string): Promise<ProcessIdentity | undefined> {
  try {
    const r = JSON.parse(await readFile(join(dir, INSTANCE_FILE), 'utf8')) as Partial<ProcessIdentity>;
    if (typeof r.pid !== 'number') return undefined;
    return typeof r.startTime === 'string' ? { pid: r.pid, startTime: r.startTime } : { pid: r.pid };
  } catch {
    return undefined;
  }
}

/**
 * Sweeps run folders under `root` whose owner process is gone: stops their emulators and runtimes
 * (recorded process groups, and on Linux every process whose sandbox marker, LAMBDA_TESTKIT_SANDBOX,
 * lies in the run's folder) and removes the folders. Folders without an owner file (not ours) and folders of live
 * owners are left alone. Resolves with the number of instances swept.
 */
export async function sweepStaleRuns(
  root: string,
  options: { skip?: string; graceMs: number },
): Promise<number> {
  let runs: string[];
  try {
    runs = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return 0; // no root yet: nothing to sweep
  }
  let swept = 0;
  for (const run of runs) {
    const runRoot = join(root, run);
    if (runRoot === options.skip) continue;
    const owner = await readOwnerFile(runRoot);
    if (!owner || !isOwnerGone(owner)) continue;
    const instanceDirs = (await readdir(runRoot, { withFileTypes: true }).catch(() => []))
      .filter((d) => d.isDirectory())
      .map((d) => join(runRoot, d.name));
    const records = await Promise.all(instanceDirs.map((d) => readInstanceRecord(d)));
    const hasRecord = instanceDirs.map((d) => existsSync(join(d, INSTANCE_FILE)));
    await Promise.all(instanceDirs.map((dir, i) => stopSandbox(records[i], { dir }, options.graceMs)));
    // A last pass over the whole run folder catches processes of instances whose folder is half made.
    await stopSandbox(undefined, { prefix: runRoot + sep }, options.graceMs);
    await rm(runRoot, { recursive: true, force: true, maxRetries: 3 });
    // Spares that never got a function are not instances.
    swept += instanceDirs.filter((d, i) => !basename(d).startsWith(SPARE_PREFIX) || hasRecord[i]).length;
  }
  return swept;
}
