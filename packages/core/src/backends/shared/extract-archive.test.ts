import { lstat, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZipArchive } from 'archiver';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes } from '../../errors.ts';
import type { ResolvedArchive } from '../../function-spec.ts';
import { TemporaryFolder } from '../../testing/temporary-folder.ts';
import { extractArchive, mergeLayers } from './extract-archive.ts';

type Entry =
  | { name: string; content: string; mode?: number }
  | { name: string; symlink: string }
  | { name: string; dir: true; mode?: number };

async function zipOf(source: string, entries: Entry[]): Promise<ResolvedArchive> {
  const archive = new ZipArchive({ zlib: { level: 1 } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    archive.on('data', (c: Buffer) => chunks.push(c));
    archive.on('end', () => resolve(Buffer.concat(chunks)));
    archive.on('error', reject);
  });
  for (const e of entries) {
    if ('symlink' in e) archive.symlink(e.name, e.symlink);
    else if ('dir' in e) archive.append('', { name: `${e.name}/`, mode: e.mode ?? 0o755 });
    else archive.append(e.content, { name: e.name, mode: e.mode ?? 0o644 });
  }
  await archive.finalize();
  return { source: `/virtual/${source}`, zip: await done, sha256: 'unused' };
}

const scratch = new TemporaryFolder('ltk-extract-');
beforeEach(() => scratch.renew());
afterEach(() => scratch.remove());

describe('extractArchive', () => {
  it('unpacks nested files and keeps their modes (the executable bit of bootstrap files)', async () => {
    const zip = await zipOf('code.zip', [
      { name: 'index.js', content: 'exports.handler = 1;' },
      { name: 'bin/tool', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
      { name: 'lib/deep/data.json', content: '{"a":1}', mode: 0o600 },
    ]);
    const result = await extractArchive(zip, join(scratch.path, 'task'));
    expect(result.files).toBe(3);
    expect(await readFile(join(scratch.path, 'task/index.js'), 'utf8')).toBe('exports.handler = 1;');
    expect((await stat(join(scratch.path, 'task/bin/tool'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(scratch.path, 'task/lib/deep/data.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(scratch.path, 'task/index.js'))).mode & 0o777).toBe(0o644);
  });

  it('keeps symlinks as symlinks', async () => {
    const zip = await zipOf('code.zip', [
      { name: 'real.js', content: 'x' },
      { name: 'alias.js', symlink: 'real.js' },
    ]);
    await extractArchive(zip, scratch.path);
    expect((await lstat(join(scratch.path, 'alias.js'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(scratch.path, 'alias.js'))).toBe('real.js');
  });

  it('never writes through a symlinked folder planted by an earlier entry', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'ltk-outside-'));
    try {
      const zip = await zipOf('evil.zip', [
        { name: 'escape', symlink: outside },
        { name: 'escape/pwned.txt', content: 'gotcha' },
      ]);
      await extractArchive(zip, join(scratch.path, 'task'));
      await expect(stat(join(outside, 'pwned.txt'))).rejects.toThrow();
      expect(await readFile(join(scratch.path, 'task/escape/pwned.txt'), 'utf8')).toBe('gotcha');
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('applies read-only folder modes after writing their entries', async () => {
    const zip = await zipOf('code.zip', [
      { name: 'ro', dir: true, mode: 0o555 },
      { name: 'ro/file.txt', content: 'inside' },
    ]);
    await extractArchive(zip, scratch.path);
    expect(await readFile(join(scratch.path, 'ro/file.txt'), 'utf8')).toBe('inside');
  });

  it('fails with CODE_NOT_FOUND naming the archive when the bytes are not a zip', async () => {
    const bad: ResolvedArchive = {
      source: '/somewhere/broken.zip',
      zip: Buffer.from('not a zip'),
      sha256: 'x',
    };
    const error = await extractArchive(bad, scratch.path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe(ErrorCodes.CODE_NOT_FOUND);
    expect((error as ConfigError).message).toContain('/somewhere/broken.zip');
  });
});

describe('mergeLayers', () => {
  it('merges layers in attach order: later layers overwrite files, folders are united', async () => {
    const first = await zipOf('layer1.zip', [
      { name: 'nodejs/node_modules/shared/index.js', content: 'first' },
      { name: 'nodejs/node_modules/only-first/index.js', content: 'kept' },
      { name: 'bin/conflict', content: 'file in layer 1' },
    ]);
    const second = await zipOf('layer2.zip', [
      { name: 'nodejs/node_modules/shared/index.js', content: 'second' },
      { name: 'bin/conflict/inner', content: 'folder in layer 2' },
    ]);
    await mergeLayers([first, second], join(scratch.path, 'opt'));
    expect(await readFile(join(scratch.path, 'opt/nodejs/node_modules/shared/index.js'), 'utf8')).toBe(
      'second',
    );
    expect(await readFile(join(scratch.path, 'opt/nodejs/node_modules/only-first/index.js'), 'utf8')).toBe(
      'kept',
    );
    expect(await readFile(join(scratch.path, 'opt/bin/conflict/inner'), 'utf8')).toBe('folder in layer 2');

    // The other order gives the other winner.
    await mergeLayers([second, first], join(scratch.path, 'opt2'));
    expect(await readFile(join(scratch.path, 'opt2/nodejs/node_modules/shared/index.js'), 'utf8')).toBe(
      'first',
    );
    expect(await readFile(join(scratch.path, 'opt2/bin/conflict'), 'utf8')).toBe('file in layer 1');
  });

  it('creates an empty opt folder when there are no layers', async () => {
    await mergeLayers([], join(scratch.path, 'opt'));
    expect((await stat(join(scratch.path, 'opt'))).isDirectory()).toBe(true);
  });
});
