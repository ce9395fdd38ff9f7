/**
 * What a handler sees of the file system on the process backend (docs/emulator.md#file-system): on
 * this Linux machine each runtime runs in its own mount namespace with Lambda's folders, end to end
 * through the WarmPool; where namespaces are unavailable (forced here) it runs unconfined after one
 * warning per run.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessBackend, WarmPool } from '@lambda-testkit/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ricEntry } from '../conformance/harness.ts';
import { appFunction, fixturesDir, invoke, launchContext, makeLayers } from './helpers.ts';

let rootDir: string;
const event = (value: unknown) => Buffer.from(JSON.stringify(value));
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  rootDir = await mkdtemp(join(tmpdir(), 'ltk-process-fs-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await rm(rootDir, { recursive: true, force: true });
});

interface Seen {
  read?: string;
  taskRoot: string;
  execPath: string;
  task?: string[];
  opt?: string[];
  writeTask?: string;
  writeOpt?: string;
  writeLayer?: string;
  writeVar?: string;
  writeShm?: string;
  varTmpIsTmp?: boolean;
}

function startPool(runId: string, backend: ProcessBackend): WarmPool {
  const pool = new WarmPool({ backend, runId, maxConcurrency: 2 });
  cleanups.push(
    () => backend.close(),
    () => pool.stopAll(),
  );
  return pool;
}

describe('a confined runtime (Linux, unprivileged user namespaces)', () => {
  it("gives each instance its own /tmp: two instances never see each other's file, the host's /tmp is untouched", async () => {
    const runId = 'fs-tmp';
    const pool = startPool(runId, new ProcessBackend({ rootDir }));
    pool.register(await appFunction({ name: 'files', handler: 'index.files', timeout: 20 }));
    const name = `ltk-confined-${randomUUID()}`;
    // Two calls at once take two instances; each writes the same absolute path, waits, reads it back.
    const write = (content: string) =>
      pool.invoke('files', event({ write: `/tmp/${name}`, content, sleepMs: 400 }));
    const [a, b] = await Promise.all([write('from A'), write('from B')]);
    expect(a.kind).toBe('success');
    expect(b.kind).toBe('success');
    expect(a.instanceId).not.toBe(b.instanceId);
    expect((a.json as Seen).read).toBe('from A');
    expect((b.json as Seen).read).toBe('from B');
    expect((a.json as Seen).taskRoot).toBe('/var/task');

    // On the host, each file is in its own instance's folder and nowhere in /tmp.
    expect(existsSync(join('/tmp', name))).toBe(false);
    for (const [result, content] of [
      [a, 'from A'],
      [b, 'from B'],
    ] as const) {
      const hostFile = join(rootDir, runId, result.instanceId, 'tmp', name);
      expect(readFileSync(hostFile, 'utf8')).toBe(content);
    }

    // The next call on a warm instance still finds its own file (the folder lives as long as the instance).
    const again = await pool.invoke('files', event({ write: `/tmp/${name}-2`, content: 'again' }));
    expect((again.json as Seen).read).toBe('again');
  });

  it('keeps /var/task and /opt read-only, shows the layers at /opt and Node at /var/lang, and a private /dev/shm', async () => {
    const layers = await makeLayers();
    cleanups.push(() => rm(join(layers.base, '..'), { recursive: true, force: true }));
    const pool = startPool('fs-ro', new ProcessBackend({ rootDir }));
    pool.register(
      await appFunction({ name: 'probe', handler: 'index.files', layers: [layers.base, layers.bin] }),
    );
    const shmName = `ltk-confined-${randomUUID()}`;
    const result = await pool.invoke('probe', event({ probe: true, shmName }));
    expect(result.kind).toBe('success');
    expect(result.json).toEqual({
      taskRoot: '/var/task',
      execPath: '/var/lang/bin/node',
      task: ['index.js'],
      // The layers and nothing else: the Node of this machine (under /opt here) is not in the way.
      opt: ['bin', 'nodejs'],
      writeTask: 'EROFS',
      writeOpt: 'EROFS',
      writeLayer: 'EROFS',
      writeVar: 'EROFS',
      writeShm: 'written',
      varTmpIsTmp: true,
    });
    expect(existsSync(join('/dev/shm', shmName))).toBe(false);
  });
});

describe('a confined runtime started from hidden or foreign places', () => {
  it("runs AWS's aws-lambda-ric as the runtime client, with Lambda's paths", async () => {
    const backend = new ProcessBackend({ rootDir, bootstrap: ricEntry });
    cleanups.push(() => backend.close());
    const instance = await backend.launch(
      await appFunction({ name: 'ric', handler: 'index.files' }),
      launchContext('fs-ric'),
    );
    expect(instance.handle.confined).toBe(true);
    const answer = await invoke(instance, { write: '/tmp/ric', content: 'through ric' });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      read: 'through ric',
      taskRoot: '/var/task',
      execPath: '/var/lang/bin/node',
    });
    expect(readFileSync(join(instance.handle.dir, 'tmp', 'ric'), 'utf8')).toBe('through ric');
  });

  it('reaches a bootstrap installed under /tmp, which the namespace covers', async () => {
    // As when a project is installed in a temp folder: the bootstrap's path is hidden by the private /tmp.
    const copy = await mkdtemp(join(tmpdir(), 'ltk-core-copy-'));
    cleanups.push(() => rm(copy, { recursive: true, force: true }));
    const src = join(import.meta.dirname, '..', '..', 'packages', 'core', 'src');
    await cp(join(src, 'bootstrap'), join(copy, 'bootstrap'), { recursive: true });
    const backend = new ProcessBackend({ rootDir, bootstrap: join(copy, 'bootstrap', 'node', 'index.ts') });
    cleanups.push(() => backend.close());
    const instance = await backend.launch(
      await appFunction({ name: 'copied', handler: 'index.files' }),
      launchContext('fs-copied'),
    );
    const answer = await invoke(instance, { write: '/tmp/copied', content: 'ok' });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ read: 'ok', taskRoot: '/var/task' });
  });
});

describe('a confined runtime on a host whose /tmp is a nosuid,nodev tmpfs', () => {
  it('still confines: the read-only binds keep the flags a user namespace may not drop', async () => {
    // A user and mount namespace of this test stands for such a host: in it, the run folders are on a
    // fresh tmpfs mounted nosuid,nodev, and the backend's own namespaces nest inside.
    const mountpoint = await mkdtemp(join(tmpdir(), 'ltk-nosuid-'));
    cleanups.push(() => rm(mountpoint, { recursive: true, force: true }));
    const script = join(fixturesDir, 'launch-on-tmpfs.mjs');
    const result = spawnSync(
      'unshare',
      [
        '--user',
        '--map-root-user',
        '--mount',
        '--',
        '/bin/sh',
        '-c',
        'mount -t tmpfs -o nosuid,nodev ltk-test "$0" && exec "$@"',
        mountpoint,
        process.execPath,
        script,
        mountpoint,
        join(fixturesDir, 'app'),
      ],
      { encoding: 'utf8', env: { ...process.env, TMPDIR: mountpoint }, timeout: 60_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(report).toMatchObject({
      confined: true,
      status: 200,
      seen: { read: 'on tmpfs', taskRoot: '/var/task', writeTask: 'EROFS', writeOpt: 'EROFS' },
    });
  });
});

describe('where confinement is unavailable', () => {
  it('runs unconfined after one warning per run that names what is not confined and how to get it', async () => {
    const saved = process.env.LAMBDA_TESTKIT_UNSHARE;
    // No unshare where the backend looks: what a machine without util-linux's unshare looks like.
    process.env.LAMBDA_TESTKIT_UNSHARE = join(rootDir, 'no-such-unshare');
    cleanups.push(async () => {
      if (saved === undefined) delete process.env.LAMBDA_TESTKIT_UNSHARE;
      else process.env.LAMBDA_TESTKIT_UNSHARE = saved;
    });
    const lines: string[] = [];
    const backend = new ProcessBackend({ rootDir, log: (line) => lines.push(line) });
    const pool = startPool('fs-fallback', backend);
    pool.register(await appFunction({ name: 'files', handler: 'index.files', timeout: 20 }));
    const name = `ltk-unconfined-${randomUUID()}`;
    const write = (content: string) =>
      pool.invoke('files', event({ write: join(rootDir, `${name}-${content}`), content, sleepMs: 400 }));
    const [a, b] = await Promise.all([write('A'), write('B')]);
    expect(a.instanceId).not.toBe(b.instanceId);
    // Host paths: the code is in the instance's temp folder, which the runtime could write.
    expect((a.json as Seen).taskRoot).toBe(join(rootDir, 'fs-fallback', a.instanceId, 'task'));
    expect((a.json as Seen).execPath).toBe(process.execPath);

    const warnings = lines.filter((l) => l.includes('file-system confinement is unavailable'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('no-such-unshare');
    expect(warnings[0]).toMatch(/host's \/tmp and \/opt/);
    expect(warnings[0]).toMatch(/unprivileged user namespaces/);
    expect(warnings[0]).toContain('confineFileSystem: false');
  });

  it('runs unconfined without a word when confinement is turned off', async () => {
    const lines: string[] = [];
    const backend = new ProcessBackend({ rootDir, confineFileSystem: false, log: (l) => lines.push(l) });
    cleanups.push(() => backend.close());
    const instance = await backend.launch(
      await appFunction({ name: 'off', handler: 'index.files' }),
      launchContext('fs-off'),
    );
    expect(instance.handle.confined).toBe(false);
    const seen = (await invoke(instance, {})).json as Seen;
    expect(seen.taskRoot).toBe(instance.handle.taskRoot);
    expect(lines).toEqual([]);
  });
});
