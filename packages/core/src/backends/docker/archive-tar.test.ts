// Code and layers as the tar copied into a container: layout, modes, symlinks, layer order.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ZipArchive } from 'archiver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedArchive } from '../../function-spec.ts';
import { zipDirectory } from '../../packaging/zip.ts';
import { TemporaryFolder } from '../../testing/temporary-folder.ts';
import { sandboxFilesystemTar } from './archive-tar.ts';

interface TarHeader {
  name: string;
  mode: number;
  type: string;
  linkname: string;
  content: string;
}

/** A minimal ustar reader (headers of 512-byte blocks), enough to check what archiver wrote. */
function readTar(buf: Buffer): TarHeader[] {
  const out: TarHeader[] = [];
  let offset = 0;
  const field = (start: number, len: number) =>
    buf
      .subarray(offset + start, offset + start + len)
      .toString('utf8')
      .replace(/\0.*$/s, '');
  while (offset + 512 <= buf.length) {
    if (buf.subarray(offset, offset + 512).every((b) => b === 0)) break;
    const prefix = field(345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const typeflag = field(156, 1);
    const content = buf.subarray(offset + 512, offset + 512 + size).toString('utf8');
    out.push({
      name,
      mode: Number.parseInt(field(100, 8).trim(), 8),
      type: typeflag === '5' ? 'directory' : typeflag === '2' ? 'symlink' : 'file',
      linkname: field(157, 100),
      content,
    });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

async function tarOf(code: ResolvedArchive, layers: ResolvedArchive[]): Promise<TarHeader[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of await sandboxFilesystemTar(code, layers)) chunks.push(chunk as Buffer);
  return readTar(Buffer.concat(chunks));
}

const scratch = new TemporaryFolder('ltk-archive-tar-');

async function archive(name: string, files: Record<string, string>): Promise<ResolvedArchive> {
  const root = join(scratch.path, name);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const zip = await zipDirectory(root);
  return { source: root, zip, sha256: '' };
}

beforeAll(() => scratch.renew());
afterAll(() => scratch.remove());

describe('sandboxFilesystemTar', () => {
  it('puts the code under var/task/ and merges layers under opt/ in attach order', async () => {
    const code = await archive('code', { 'index.js': 'code', 'lib/util.js': 'util' });
    const one = await archive('one', { 'nodejs/node_modules/a/index.js': 'one-a', 'bin/tool': 'one-tool' });
    const two = await archive('two', { 'nodejs/node_modules/a/index.js': 'two-a' });
    const entries = await tarOf(code, [one, two]);
    const files = Object.fromEntries(
      entries.filter((e) => e.type === 'file').map((e) => [e.name, e.content]),
    );
    expect(files).toEqual({
      'var/task/index.js': 'code',
      'var/task/lib/util.js': 'util',
      'opt/nodejs/node_modules/a/index.js': 'two-a',
      'opt/bin/tool': 'one-tool',
    });
    // Reversed order: the other layer wins.
    const reversed = await tarOf(code, [two, one]);
    expect(reversed.find((e) => e.name === 'opt/nodejs/node_modules/a/index.js')?.content).toBe('one-a');
  });

  it('keeps the executable bit and symlinks', async () => {
    const root = join(scratch.path, 'modes');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'bootstrap'), '#!/bin/sh\n');
    await chmod(join(root, 'bootstrap'), 0o755);
    await writeFile(join(root, 'data.txt'), 'x');
    const code: ResolvedArchive = { source: root, zip: await zipDirectory(root), sha256: '' };
    const entries = await tarOf(code, []);
    expect(entries.find((e) => e.name === 'var/task/bootstrap')?.mode).toBe(0o755);
    expect(entries.find((e) => e.name === 'var/task/data.txt')?.mode).toBe(0o644);

    // A zip made elsewhere may hold a symlink entry (UNIX mode 0120777, target as content).
    const zip = new ZipArchive();
    const chunks: Buffer[] = [];
    zip.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => zip.on('end', r));
    zip.append('x', { name: 'data.txt' });
    zip.symlink('link.txt', 'data.txt', 0o777);
    await zip.finalize();
    await ended;
    const linked = await tarOf({ source: 'symlinks.zip', zip: Buffer.concat(chunks), sha256: '' }, []);
    expect(linked.find((e) => e.name === 'var/task/link.txt')).toMatchObject({
      type: 'symlink',
      linkname: 'data.txt',
    });
  });

  it('a file that is not a zip is a clear error naming its source', async () => {
    const bad: ResolvedArchive = { source: '/somewhere/code.zip', zip: Buffer.from('not a zip'), sha256: '' };
    await expect(sandboxFilesystemTar(bad, [])).rejects.toThrow(
      /Could not read the zip of \/somewhere\/code\.zip/,
    );
  });
});
