import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFINED_FOLDERS, confinementWanted, prepareConfinement, rootDirProblem } from './confine.ts';

const tools = { unshare: '/usr/bin/unshare', mount: '/usr/bin/mount', shell: '/bin/sh' };
const made: string[] = [];

afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function instanceDir(): Promise<string> {
  // A space in the path: fstab fields are whitespace-separated, so it must be escaped.
  const root = await mkdtemp(join(tmpdir(), 'ltk confine '));
  made.push(root);
  const dir = join(root, 'i-1');
  for (const sub of ['task', 'opt', 'runtime', 'tmp']) await mkdir(join(dir, sub), { recursive: true });
  return dir;
}

const folders = (dir: string) => ({
  task: join(dir, 'task'),
  opt: join(dir, 'opt'),
  runtime: join(dir, 'runtime'),
  tmp: join(dir, 'tmp'),
});

describe('confinementWanted', () => {
  it('takes the option first, then LAMBDA_TESTKIT_CONFINE, and is on by default', () => {
    expect(confinementWanted(undefined, {})).toBe(true);
    expect(confinementWanted(undefined, { LAMBDA_TESTKIT_CONFINE: 'false' })).toBe(false);
    expect(confinementWanted(undefined, { LAMBDA_TESTKIT_CONFINE: '0' })).toBe(false);
    expect(confinementWanted(undefined, { LAMBDA_TESTKIT_CONFINE: 'true' })).toBe(true);
    expect(confinementWanted(true, { LAMBDA_TESTKIT_CONFINE: 'false' })).toBe(true);
    expect(confinementWanted(false, {})).toBe(false);
  });
});

describe('rootDirProblem', () => {
  it('refuses instance folders under /var, which the namespace replaces', () => {
    expect(rootDirProblem('/var/tmp/lambda-testkit')).toMatch(/lies under \/var/);
    expect(rootDirProblem('/tmp/lambda-testkit')).toBeUndefined();
  });
});

describe('prepareConfinement', () => {
  it('writes a mount table that reads every source before a later mount hides it', async () => {
    const dir = await instanceDir();
    // A project installed in a temp folder, which the namespace's /tmp hides.
    const project = await mkdtemp('/tmp/ltk-project-');
    made.push(project);
    const launch = await prepareConfinement(
      {
        dir,
        folders: folders(dir),
        node: '/opt/tools/node/bin/node',
        keep: [join(project, 'emulator/cli.js')],
      },
      tools,
    );
    expect(launch.folders).toEqual(CONFINED_FOLDERS);
    expect(launch.nodeBin).toBe('/var/lang/bin');
    const table = launch.wrapper.at(-1) ?? '';
    expect(table).toBe(join(dir, 'fstab'));
    expect(launch.wrapper.slice(0, 4)).toEqual(['/usr/bin/unshare', '--user', '--map-root-user', '--mount']);

    const esc = (p: string) => p.replaceAll(' ', '\\040');
    const rows = (await readFile(table, 'utf8')).trim().split('\n');
    const targets = rows.map((r) => r.split(' ')[1]);
    expect(rows[0]).toBe(`/var ${esc(join(dir, 'host-var'))} none rbind 0 0`);
    expect(rows[1]).toBe(`${esc(join(dir, 'var'))} /var none bind,ro,nosuid,nodev 0 0`);
    expect(rows).toContain(`${esc(join(dir, 'task'))} /var/task none bind,ro,nosuid,nodev 0 0`);
    expect(rows).toContain('/opt/tools/node /var/lang none bind,ro,nosuid,nodev 0 0');
    expect(rows).toContain(`${project} /var/lambda-testkit/host${project} none bind,ro,nosuid,nodev 0 0`);
    // /opt and /tmp come after everything read from below them; /dev/shm closes.
    expect(targets.slice(-3)).toEqual(['/opt', '/tmp', '/dev/shm']);
    expect(targets.indexOf('/var/tmp')).toBeLessThan(targets.indexOf('/tmp'));

    // The script rewrites the command's hidden host paths to where they were bound.
    const script = launch.wrapper[launch.wrapper.indexOf('-c') + 1] ?? '';
    expect(script).toContain(`'/opt/tools/node'|'/opt/tools/node/'*) a='/var/lang'"\${a#'/opt/tools/node'}"`);
    expect(script).toContain(`a='/var/lambda-testkit/host${project}'`);
    expect(script).toContain(`cd '/var/task'`);
  });
});
