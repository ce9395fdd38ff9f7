import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listTree, sha256Base64, zipDirectory } from './zip.ts';

const execFileAsync = promisify(execFile);
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ltk-zip-'));
  await mkdir(join(dir, 'lib', 'nested'), { recursive: true });
  await writeFile(join(dir, 'index.js'), 'exports.handler = async () => 1;\n');
  await writeFile(join(dir, 'lib', 'b.js'), 'b');
  await writeFile(join(dir, 'lib', 'a.js'), 'a');
  await writeFile(join(dir, 'lib', 'nested', 'z.txt'), 'z');
  await writeFile(join(dir, 'bootstrap'), '#!/bin/sh\n');
  await chmod(join(dir, 'bootstrap'), 0o755);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('zipDirectory', () => {
  it('gives the same bytes for the same tree', async () => {
    const first = await zipDirectory(dir);
    const second = await zipDirectory(dir);
    expect(first.length).toBeGreaterThan(0);
    expect(second.equals(first)).toBe(true);
  });

  it('ignores modification times', async () => {
    const before = await zipDirectory(dir);
    await utimes(join(dir, 'lib', 'a.js'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    await utimes(join(dir, 'index.js'), new Date(), new Date(Date.now() + 60_000));
    expect((await zipDirectory(dir)).equals(before)).toBe(true);
  });

  it('changes when one byte changes', async () => {
    const before = await zipDirectory(dir);
    await writeFile(join(dir, 'lib', 'a.js'), 'A');
    const after = await zipDirectory(dir);
    expect(after.equals(before)).toBe(false);
    expect(sha256Base64(after)).not.toBe(sha256Base64(before));
  });

  it('keeps the executable bit and ignores other mode differences', async () => {
    const before = await zipDirectory(dir);
    await chmod(join(dir, 'lib', 'a.js'), 0o600); // umask-like difference: not part of the package
    expect((await zipDirectory(dir)).equals(before)).toBe(true);
    await chmod(join(dir, 'lib', 'a.js'), 0o700); // executable now: a real change
    expect((await zipDirectory(dir)).equals(before)).toBe(false);
  });

  it('lists entries in code-unit order and follows symlinks and cuts link cycles', async () => {
    await symlink(join(dir, 'lib'), join(dir, 'lib', 'nested', 'loop'));
    await symlink(join(dir, 'lib', 'a.js'), join(dir, 'Alias.js'));
    await symlink(join(dir, 'missing'), join(dir, 'dangling'));
    expect(await listTree(dir)).toEqual([
      'Alias.js',
      'bootstrap',
      'index.js',
      'lib/a.js',
      'lib/b.js',
      'lib/nested/z.txt',
    ]);
    const a = await zipDirectory(dir);
    expect((await zipDirectory(dir)).equals(a)).toBe(true);
  });

  it('gives the same bytes in every time zone', async () => {
    // A child process per zone: TZ is read at process start (test workers may be threads).
    const zipIn = (tz: string) =>
      execFileAsync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(new URL('./zip.ts', import.meta.url).href)});` +
            `process.stdout.write(m.sha256Base64(await m.zipDirectory(${JSON.stringify(dir)})));`,
        ],
        { env: { ...process.env, TZ: tz } },
      ).then((r) => r.stdout);
    const [west, east] = await Promise.all([zipIn('America/Los_Angeles'), zipIn('Asia/Tokyo')]);
    expect(west).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(east).toBe(west);
  });

  it('hashes as AWS reports CodeSha256 (base64 SHA-256)', () => {
    expect(sha256Base64(Buffer.from('abc'))).toBe('ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=');
  });
});
