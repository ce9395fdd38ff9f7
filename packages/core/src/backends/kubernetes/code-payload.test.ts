// Code delivery without tar: the ConfigMaps stay under the 1 MiB object limit, and the install script,
// run by sh over a projection laid out as the kubelet does it, rebuilds the tree byte for byte.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ZipArchive } from 'archiver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedArchive } from '../../function-spec.ts';
import { zipDirectory } from '../../packaging/zip.ts';
import {
  buildCodePayload,
  INSTALL_SCRIPT,
  payloadConfigMaps,
  payloadVolume,
  shQuote,
} from './code-payload.ts';

const run = promisify(execFile);
let root: string;

async function archive(dir: string): Promise<ResolvedArchive> {
  const zip = await zipDirectory(dir);
  return { source: dir, zip, sha256: 'x' };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ltk-payload-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('buildCodePayload', () => {
  it('packs files into maps under the chunk size, cuts big files into parts, and the script rebuilds everything', async () => {
    const code = join(root, 'code');
    const layerA = join(root, 'layer-a');
    const big = randomBytes(2500);
    await mkdir(join(code, 'lib/deep'), { recursive: true });
    await writeFile(join(code, 'index.js'), "exports.handler = async () => 'it''s';\n");
    await writeFile(join(code, 'lib/deep/big.bin'), big);
    await writeFile(join(code, "lib/o'quote file.txt"), 'quoted');
    await writeFile(join(code, 'bootstrap'), '#!/bin/sh\n');
    await chmod(join(code, 'bootstrap'), 0o755);
    await mkdir(join(layerA, 'nodejs'), { recursive: true });
    await writeFile(join(layerA, 'nodejs/shared.js'), 'one');
    await writeFile(join(layerA, 'nodejs/only-a.js'), 'a');
    // A zip made elsewhere may hold a symlink entry, which a projection cannot: the script makes it.
    const zip = new ZipArchive();
    const chunks: Buffer[] = [];
    zip.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => zip.on('end', r));
    zip.append('two', { name: 'nodejs/shared.js' });
    zip.symlink('bin/tool', '../nodejs/shared.js', 0o777);
    await zip.finalize();
    await ended;
    const layerB: ResolvedArchive = { source: 'layer-b.zip', zip: Buffer.concat(chunks), sha256: 'b' };

    const payload = await buildCodePayload(
      { code: await archive(code), layers: [await archive(layerA), layerB] },
      'ltk-test',
      {
        chunkBytes: 1000,
        paths: {
          payload: join(root, 'projected'),
          task: join(root, 'task'),
          opt: join(root, 'opt'),
          imageTask: join(root, 'image-task'),
          imageOpt: join(root, 'image-opt'),
        },
      },
    );
    expect(payload.maps.length).toBeGreaterThan(3);
    for (const map of payload.maps) {
      const size = [...map.data].reduce((n, [k, v]) => n + k.length + v.length, 0);
      // The script is the one entry that may stand alone above the chunk size.
      if (!map.items.some((i) => i.path === INSTALL_SCRIPT)) expect(size).toBeLessThanOrEqual(1000 + 8);
    }

    // The kubelet's part: each item's bytes at its path with its mode.
    for (const map of payload.maps) {
      for (const item of map.items) {
        const file = join(root, 'projected', item.path);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, map.data.get(item.key) as Buffer);
        await chmod(file, item.mode);
      }
    }
    await mkdir(join(root, 'image-opt/extensions'), { recursive: true });
    await writeFile(join(root, 'image-opt/extensions/from-image'), 'image');
    await mkdir(join(root, 'task'));
    await mkdir(join(root, 'opt'));
    await run('sh', [join(root, 'projected', INSTALL_SCRIPT)]);

    const task = join(root, 'task');
    const opt = join(root, 'opt');
    expect(await readFile(join(task, 'lib/deep/big.bin'))).toEqual(big);
    expect(await readFile(join(task, "lib/o'quote file.txt"), 'utf8')).toBe('quoted');
    expect((await stat(join(task, 'bootstrap'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(task, 'index.js'))).mode & 0o777).toBe(0o644);
    expect(await readlink(join(opt, 'bin/tool'))).toBe('../nodejs/shared.js');
    expect(await readFile(join(opt, 'bin/tool'), 'utf8')).toBe('two');
    expect(await readFile(join(opt, 'nodejs/shared.js'), 'utf8')).toBe('two');
    expect(await readFile(join(opt, 'nodejs/only-a.js'), 'utf8')).toBe('a');
    expect(await readFile(join(opt, 'extensions/from-image'), 'utf8')).toBe('image');
  });

  it('makes ConfigMaps with base64 binaryData and one projected volume with every item', async () => {
    const code = join(root, 'small');
    await mkdir(code, { recursive: true });
    await writeFile(join(code, 'index.js'), 'x');
    const payload = await buildCodePayload({ code: await archive(code), layers: [] }, 'ltk-small');
    const maps = payloadConfigMaps(payload, { labels: { a: 'b' }, annotations: {} });
    expect(maps).toHaveLength(1);
    expect(maps[0]?.metadata).toMatchObject({ name: 'ltk-small-0', labels: { a: 'b' } });
    const volume = payloadVolume(payload, 'code');
    const items = volume.projected?.sources?.[0]?.configMap?.items ?? [];
    expect(items.map((i) => i.path).sort()).toEqual([INSTALL_SCRIPT, 'task/index.js']);
    const key = items.find((i) => i.path === 'task/index.js')?.key ?? '';
    expect(Buffer.from(maps[0]?.binaryData?.[key] ?? '', 'base64').toString()).toBe('x');
  });

  it('shQuote survives quotes, spaces and dollars', async () => {
    const value = `it's a $HOME "quote"`;
    const { stdout } = await run('sh', ['-c', `printf %s ${shQuote(value)}`]);
    expect(stdout).toBe(value);
  });
});
