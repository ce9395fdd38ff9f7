import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes } from '../errors.ts';
import type { FunctionSpec } from '../function-spec.ts';
import { resolveFunction } from './resolve-function.ts';
import { sha256Base64, zipDirectory } from './zip.ts';

let root: string;
const spec = (over: Partial<FunctionSpec> = {}): FunctionSpec => ({
  name: 'orders',
  runtime: 'nodejs22.x',
  handler: 'index.handler',
  code: 'fn',
  ...over,
});

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ltk-resolve-'));
  await mkdir(join(root, 'fn'));
  await writeFile(join(root, 'fn', 'index.js'), 'exports.handler = async () => 1;\n');
  await mkdir(join(root, 'layer'));
  await writeFile(join(root, 'layer', 'x.js'), 'x');
  await writeFile(join(root, 'code.zip'), await zipDirectory(join(root, 'fn')));
  await writeFile(join(root, 'notes.txt'), 'not a zip');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('resolveFunction', () => {
  it('applies defaults and hashes the code', async () => {
    const fn = await resolveFunction(spec(), { root });
    expect(fn).toMatchObject({
      name: 'orders',
      timeout: 3,
      memorySize: 128,
      architecture: 'x86_64',
      environment: {},
      layers: [],
    });
    expect(fn.image).toBeUndefined();
    expect(fn.code.source).toBe(join(root, 'fn'));
    expect(fn.code.sha256).toBe(sha256Base64(fn.code.zip));
    expect(fn.deployId).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('resolves a zip as it is and gives the directory the same deploy id', async () => {
    const fromZip = await resolveFunction(spec({ code: 'code.zip' }), { root });
    const fromDir = await resolveFunction(spec(), { root });
    expect(fromZip.code.zip.equals(fromDir.code.zip)).toBe(true);
    expect(fromZip.deployId).toBe(fromDir.deployId);
  });

  it('is equal across resolutions and changes with a layer', async () => {
    const a = await resolveFunction(spec({ layers: ['layer'] }), { root });
    const b = await resolveFunction(spec({ layers: [join(root, 'layer')] }), { root });
    expect(b).toEqual(a);
    expect(a.layers[0]?.source).toBe(join(root, 'layer'));
    expect(a.deployId).not.toBe((await resolveFunction(spec(), { root })).deployId);
  });

  it('names the resolved absolute path of missing code', async () => {
    const err = await rejection(resolveFunction(spec({ code: 'nope' }), { root }));
    expect(err.code).toBe(ErrorCodes.CODE_NOT_FOUND);
    expect(err.message).toContain(join(root, 'nope'));
  });

  it('rejects code that is neither a directory nor a zip, and a missing layer', async () => {
    expect((await rejection(resolveFunction(spec({ code: 'notes.txt' }), { root }))).code).toBe(
      ErrorCodes.CODE_NOT_FOUND,
    );
    const err = await rejection(resolveFunction(spec({ layers: ['gone'] }), { root }));
    expect(err.code).toBe(ErrorCodes.CODE_NOT_FOUND);
    expect(err.message).toContain(join(root, 'gone'));
  });

  it.each(['handler', 'index', 'index.', '.handler', 'src/index', 'src.dir/index', 'index handler'])(
    'rejects the Node handler %j',
    async (handler) => {
      const err = await rejection(resolveFunction(spec({ handler }), { root }));
      expect(err.code).toBe(ErrorCodes.BAD_HANDLER);
      expect(err.message).toContain('path/file.function');
    },
  );

  it('accepts nested handlers and runtime-specific forms', async () => {
    await expect(resolveFunction(spec({ handler: 'src/orders.main' }), { root })).resolves.toBeDefined();
    await expect(
      resolveFunction(spec({ runtime: 'python3.13', handler: 'pkg.mod.handler' }), { root }),
    ).resolves.toBeDefined();
    await expect(
      resolveFunction(spec({ runtime: 'provided.al2023', handler: 'bootstrap' }), { root }),
    ).resolves.toBeDefined();
  });

  it('rejects an unknown runtime with the known ones', async () => {
    const err = await rejection(resolveFunction(spec({ runtime: 'nodejs99.x' }), { root }));
    expect(err.code).toBe(ErrorCodes.UNSUPPORTED_RUNTIME);
    expect(err.message).toContain('nodejs22.x');
  });

  it.each([
    ['timeout', 0],
    ['timeout', 901],
    ['timeout', 2.5],
    ['memorySize', 127],
    ['memorySize', 10_241],
    ['scaleOutWaitMs', -1],
    ['scaleOutWaitMs', 900_001],
    ['ephemeralStorage', 511],
    ['ephemeralStorage', 10_241],
  ] as const)('rejects %s = %d', async (field, value) => {
    const err = await rejection(resolveFunction(spec({ [field]: value }), { root }));
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain(field);
  });

  it('accepts the bounds', async () => {
    await expect(
      resolveFunction(spec({ timeout: 900, memorySize: 10_240 }), { root }),
    ).resolves.toMatchObject({
      timeout: 900,
      memorySize: 10_240,
    });
  });

  it('carries scaleOutWaitMs outside the deploy id', async () => {
    const plain = await resolveFunction(spec(), { root });
    expect(plain.scaleOutWaitMs).toBeUndefined();
    const patient = await resolveFunction(spec({ scaleOutWaitMs: 50 }), { root });
    expect(patient.scaleOutWaitMs).toBe(50);
    expect(patient.deployId).toBe(plain.deployId);
  });

  it('carries ephemeralStorage when declared, in the deploy id; undeclared leaves the deploy id as before', async () => {
    const plain = await resolveFunction(spec(), { root });
    expect(plain).not.toHaveProperty('ephemeralStorage');
    const sized = await resolveFunction(spec({ ephemeralStorage: 10_240 }), { root });
    expect(sized.ephemeralStorage).toBe(10_240);
    expect(sized.deployId).not.toBe(plain.deployId);
  });

  it('asks for a bundle when only an entry is given', async () => {
    const err = await rejection(resolveFunction(spec({ code: undefined, entry: 'src/index.ts' }), { root }));
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain('bundled');
  });

  it('carries debug as { wait }, outside the deploy id, for Node.js runtimes only', async () => {
    const plain = await resolveFunction(spec(), { root });
    expect(plain.debug).toBeUndefined();
    const on = await resolveFunction(spec({ debug: true }), { root });
    expect(on.debug).toEqual({ wait: false });
    expect(on.deployId).toBe(plain.deployId);
    expect((await resolveFunction(spec({ debug: { wait: true } }), { root })).debug).toEqual({ wait: true });
    expect((await resolveFunction(spec({ debug: false }), { root })).debug).toBeUndefined();
    const bad = await rejection(
      resolveFunction(spec({ debug: { wait: 'yes' } } as unknown as Partial<FunctionSpec>), { root }),
    );
    expect(bad.message).toContain('"debug" must be true, false or { wait: boolean }');
    const python = await rejection(
      resolveFunction(spec({ runtime: 'python3.13', handler: 'app.handler', debug: true }), { root }),
    );
    expect(python.message).toContain('Node.js runtimes only');
  });

  it('rejects non-string environment values and bad names', async () => {
    const bad = { environment: { PORT: 8080 } } as unknown as Partial<FunctionSpec>;
    expect((await rejection(resolveFunction(spec(bad), { root }))).message).toContain('PORT');
    const name = await rejection(resolveFunction(spec({ environment: { '1X': 'a' } }), { root }));
    expect(name.message).toContain('1X');
  });
});
