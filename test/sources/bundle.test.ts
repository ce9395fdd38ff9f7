/**
 * TypeScript entries bundled with esbuild: output shape, source-mapped stack traces (in a child
 * Node and through the process backend), the input-hash cache, options and failures.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ErrorCodes,
  type FunctionSpec,
  loadFunctionSpecs,
  ProcessBackend,
  resolveFunction,
  type TestkitConfig,
} from '@lambda-testkit/core';
import { BUNDLES_KEPT_PER_ENTRY, bundledSources } from '@lambda-testkit/core/internal';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureRoot, removeFixtureRoots, saveBeforeBuild, thrown } from './helpers.ts';

afterAll(removeFixtureRoots);

const THROW_LINE = 5; // fixtures/ts-handler/src/validate.ts: `throw new Error('order has no id')`

function orders(extra: Partial<FunctionSpec> = {}): TestkitConfig {
  return {
    functions: {
      orders: { runtime: 'nodejs22.x', handler: 'src/handler.handler', entry: 'src/handler.ts', ...extra },
    },
  };
}

async function loadOne(config: TestkitConfig, root: string): Promise<FunctionSpec> {
  const [spec] = await loadFunctionSpecs(config, root, { warn: () => {} });
  if (!spec) throw new Error('no function loaded');
  return spec;
}

/** Calls the bundle's handler in a child Node with source maps on; returns what it printed. */
function runBundle(file: string, event: unknown): { stdout: string; stderr: string } {
  const script = `import(${JSON.stringify(file)}).then(async (m) => {
    const handler = m.handler ?? m.default?.handler;
    try { console.log(JSON.stringify(await handler(${JSON.stringify(event)}))); }
    catch (e) { console.log(e.stack); }
  });`;
  const child = spawnSync(process.execPath, ['--enable-source-maps', '-e', script], { encoding: 'utf8' });
  return { stdout: child.stdout, stderr: child.stderr };
}

describe('bundling a TypeScript entry', () => {
  it('writes a CommonJS index.js with a source map, rewrites the handler and enables source maps', async () => {
    const root = await fixtureRoot('ts-handler');
    const spec = await loadOne(orders(), root);
    expect(spec.entry).toBeUndefined();
    expect(spec.handler).toBe('index.handler');
    expect(spec.code?.startsWith(join(root, 'node_modules', '.cache', 'lambda-testkit', 'bundles'))).toBe(
      true,
    );
    expect(existsSync(join(spec.code ?? '', 'index.js'))).toBe(true);
    expect(existsSync(join(spec.code ?? '', 'index.js.map'))).toBe(true);
    expect(spec.environment?.NODE_OPTIONS).toBe('--enable-source-maps');
    const code = await readFile(join(spec.code ?? '', 'index.js'), 'utf8');
    expect(code).toContain('module.exports');
    expect(code).toContain('order has no id');
  });

  it('maps a thrown error back to the .ts file and line (child Node with --enable-source-maps)', async () => {
    const root = await fixtureRoot('ts-handler');
    const spec = await loadOne(orders(), root);
    const { stdout } = runBundle(join(spec.code ?? '', 'index.js'), { quantity: 2 });
    expect(stdout).toContain('Error: order has no id');
    expect(stdout).toContain(`${join(root, 'src', 'validate.ts')}:${THROW_LINE}:`);
    expect(runBundle(join(spec.code ?? '', 'index.js'), { id: 'o-1', quantity: 2 }).stdout).toContain(
      '"o-1:2"',
    );
  });

  it('maps the stack trace of an invocation through the process backend to the .ts line', async () => {
    const root = await fixtureRoot('ts-handler');
    const spec = await loadOne(orders(), root);
    const fn = await resolveFunction(spec, { root });
    const backend = new ProcessBackend({ rootDir: join(root, 'instances') });
    const instance = await backend.launch(fn, {
      instanceId: `i-${randomUUID().slice(0, 8)}`,
      runId: 'sources-suite',
      region: 'us-east-1',
      accountId: '123456789012',
    });
    try {
      const res = await request(`${instance.endpoint}/2015-03-31/functions/function/invocations`, {
        method: 'POST',
        body: JSON.stringify({ quantity: 1 }),
        headers: { 'x-lambda-testkit-invoke-secret': instance.invokeSecret ?? '' },
      });
      const body = JSON.stringify(await res.body.json());
      expect(body).toContain('order has no id');
      expect(body).toContain(`validate.ts:${THROW_LINE}:`);
    } finally {
      await backend.terminate(instance.handle);
      await backend.close();
    }
  });

  it('writes index.mjs with a createRequire banner for format esm', async () => {
    const root = await fixtureRoot('ts-handler');
    const spec = await loadOne(orders({ bundle: { format: 'esm' } }), root);
    const code = await readFile(join(spec.code ?? '', 'index.mjs'), 'utf8');
    expect(code).toContain('createRequire');
    expect(code).toMatch(/export\s*\{/);
    const { stdout } = runBundle(join(spec.code ?? '', 'index.mjs'), {});
    expect(stdout).toContain(`validate.ts:${THROW_LINE}:`);
  });

  it('applies define, minify, external and sourcemap: false', async () => {
    const root = await fixtureRoot('ts-handler');
    await writeFile(
      join(root, 'src', 'flags.ts'),
      "import { S3Client } from '@aws-sdk/client-s3';\nimport ext from 'left-out';\n" +
        'export const handler = async () => ({ flag: FEATURE_FLAG, s3: typeof S3Client, ext });\n',
    );
    const spec = await loadOne(
      {
        functions: {
          flags: {
            runtime: 'nodejs24.x',
            handler: 'flags.handler',
            entry: 'src/flags.ts',
            bundle: {
              define: { FEATURE_FLAG: '"on"' },
              minify: true,
              external: ['left-out'],
              sourcemap: false,
            },
          },
        },
      },
      root,
    );
    const code = await readFile(join(spec.code ?? '', 'index.js'), 'utf8');
    expect(code).toContain('"on"');
    expect(code).toContain('require("@aws-sdk/client-s3")');
    expect(code).toContain('require("left-out")');
    expect(code.split('\n').length).toBeLessThan(5);
    expect(existsSync(join(spec.code ?? '', 'index.js.map'))).toBe(false);
    expect(spec.environment?.NODE_OPTIONS).toBeUndefined();
  });
});

describe('the esbuild target', () => {
  it('is node<major> of the runtime unless bundle.target says otherwise', async () => {
    const root = await fixtureRoot('ts-handler');
    await writeFile(
      join(root, 'src', 'modern.ts'),
      'export const handler = async (e: { a?: number }) => e.a ?? 7;\n',
    );
    const spec = (runtime: string, target?: string) =>
      loadOne(
        {
          functions: {
            modern: {
              runtime,
              handler: 'modern.handler',
              entry: 'src/modern.ts',
              bundle: target ? { target } : {},
            },
          },
        },
        root,
      );
    const code = async (s: FunctionSpec) => readFile(join(s.code ?? '', 'index.js'), 'utf8');
    // The cache is keyed by the settings esbuild gets: the default is exactly node22 / node24.
    expect((await spec('nodejs22.x')).code).toBe((await spec('nodejs22.x', 'node22')).code);
    expect((await spec('nodejs24.x')).code).toBe((await spec('nodejs24.x', 'node24')).code);
    expect((await spec('nodejs22.x')).code).not.toBe((await spec('nodejs24.x')).code);
    expect(await code(await spec('nodejs22.x'))).toContain('??');
    // An older target really reaches esbuild: `??` is lowered.
    expect(await code(await spec('nodejs22.x', 'es2019'))).not.toContain('??');
  });
});

describe('bundle.loader', () => {
  it('imports a file through the loader it names (here .sql as text)', async () => {
    const root = await fixtureRoot('ts-handler');
    await writeFile(join(root, 'src', 'banner.sql'), 'select 1');
    await writeFile(
      join(root, 'src', 'banner.ts'),
      "import text from './banner.sql';\nexport const handler = async () => text.toUpperCase();\n",
    );
    const config = (loader?: Record<string, 'text'>): TestkitConfig => ({
      functions: {
        banner: {
          runtime: 'nodejs22.x',
          handler: 'banner.handler',
          entry: 'src/banner.ts',
          bundle: loader ? { loader } : {},
        },
      },
    });
    const spec = await loadOne(config({ '.sql': 'text' }), root);
    expect(runBundle(join(spec.code ?? '', 'index.js'), {}).stdout).toContain('"SELECT 1"');
    // esbuild has no loader of its own for .sql: the option is what made it work.
    const error = await thrown(() => loadOne(config(), root));
    expect(error.code).toBe(ErrorCodes.BUNDLE_FAILED);
    expect(error.message).toContain('banner.sql');
  });
});

describe('the bundle cache', () => {
  it('reuses the bundle while inputs are unchanged and rebuilds on an edit of an imported file', async () => {
    const root = await fixtureRoot('ts-handler');
    const first = await loadOne(orders(), root);
    const firstBytes = await readFile(join(first.code ?? '', 'index.js'));
    const again = await loadOne(orders(), root);
    expect(again.code).toBe(first.code);
    const firstId = (await resolveFunction(first, { root })).deployId;
    expect((await resolveFunction(again, { root })).deployId).toBe(firstId);

    // An edit to a file the entry imports (not the entry itself): new bundle, new deploy id.
    const validate = join(root, 'src', 'validate.ts');
    await saveBeforeBuild(
      validate,
      (await readFile(validate, 'utf8')).replace('order has no id', 'order needs an id'),
    );
    const edited = await loadOne(orders(), root);
    expect(edited.code).not.toBe(first.code);
    expect(await readFile(join(edited.code ?? '', 'index.js'), 'utf8')).toContain('order needs an id');
    expect((await resolveFunction(edited, { root })).deployId).not.toBe(firstId);

    // Reverting finds the first bundle again.
    await saveBeforeBuild(
      validate,
      (await readFile(validate, 'utf8')).replace('order needs an id', 'order has no id'),
    );
    expect((await loadOne(orders(), root)).code).toBe(first.code);

    // A clean rebuild is byte-identical: the deploy id depends on the sources only.
    await rm(join(root, 'node_modules'), { recursive: true });
    const rebuilt = await loadOne(orders(), root);
    expect(rebuilt.code).toBe(first.code);
    expect(await readFile(join(rebuilt.code ?? '', 'index.js'))).toEqual(firstBytes);
    expect((await resolveFunction(rebuilt, { root })).deployId).toBe(firstId);
  });

  it('tells watchers which source files went into a bundle, built or cached', async () => {
    const root = await fixtureRoot('ts-handler');
    const expected = [join(root, 'src', 'handler.ts'), join(root, 'src', 'validate.ts')];
    const built = await loadOne(orders(), root);
    expect([...(bundledSources(built.code ?? '') ?? [])].sort()).toEqual(expected);
    const cached = await loadOne(orders(), root);
    expect(cached.code).toBe(built.code);
    expect([...(bundledSources(cached.code ?? '') ?? [])].sort()).toEqual(expected);
    expect(bundledSources(join(root, 'src'))).toBeUndefined();
  });

  it('does not cache a build whose inputs changed while esbuild ran', async () => {
    const root = await fixtureRoot('ts-handler');
    // An mtime after the build started is what a save during the build leaves behind.
    const future = new Date(Date.now() + 60_000);
    await utimes(join(root, 'src', 'validate.ts'), future, future);
    const first = await loadOne(orders(), root);
    expect(first.code).toContain('unstable-');
    const second = await loadOne(orders(), root);
    expect(second.code).not.toBe(first.code);
    // Once the file is older than a build again, builds are cached.
    const past = new Date(Date.now() - 60_000);
    await utimes(join(root, 'src', 'validate.ts'), past, past);
    const stable = await loadOne(orders(), root);
    expect(stable.code).not.toContain('unstable-');
    expect((await loadOne(orders(), root)).code).toBe(stable.code);
  });

  it(`keeps the ${BUNDLES_KEPT_PER_ENTRY} most recently used bundles of an entry and deletes older ones`, async () => {
    const root = await fixtureRoot('ts-handler');
    const validate = join(root, 'src', 'validate.ts');
    const original = await readFile(validate, 'utf8');
    const withMessage = async (message: string) => {
      await saveBeforeBuild(validate, original.replace('order has no id', message));
      return (await loadOne(orders(), root)).code ?? '';
    };
    const first = await withMessage('order has no id');
    const second = await withMessage('edit 2');
    const third = await withMessage('edit 3');
    // Using the first again makes it the most recent: the next build evicts the second.
    expect(await withMessage('order has no id')).toBe(first);
    const fourth = await withMessage('edit 4');
    expect(existsSync(second)).toBe(false);
    for (const kept of [first, third, fourth]) expect(existsSync(kept)).toBe(true);
    const bundles = join(root, 'node_modules', '.cache', 'lambda-testkit', 'bundles');
    expect((await readdir(bundles)).sort()).toEqual(
      [first, third, fourth].map((p) => p.slice(bundles.length + 1)).sort(),
    );
    // An evicted bundle is simply built again, byte for byte.
    expect(await withMessage('edit 2')).toBe(second);
    expect(await readFile(join(second, 'index.js'), 'utf8')).toContain('edit 2');
  });

  it('removes build folders a crashed run left behind (older than an hour), not fresh ones', async () => {
    const root = await fixtureRoot('ts-handler');
    const bundles = join(root, 'node_modules', '.cache', 'lambda-testkit', 'bundles');
    const stale = join(bundles, '.tmp-stale');
    const fresh = join(bundles, '.tmp-fresh');
    await mkdir(stale, { recursive: true });
    await mkdir(fresh, { recursive: true });
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(stale, old, old);
    await loadOne(orders(), root);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true); // may be another process's build in progress
  });

  it('keys the cache by options too', async () => {
    const root = await fixtureRoot('ts-handler');
    const plain = await loadOne(orders(), root);
    const minified = await loadOne(orders({ bundle: { minify: true } }), root);
    expect(minified.code).not.toBe(plain.code);
  });
});

describe('bundling failures', () => {
  it('reports esbuild errors as BUNDLE_FAILED with file and line', async () => {
    const root = await fixtureRoot('ts-handler');
    const error = await thrown(() =>
      loadOne(orders({ entry: 'src/broken.ts', handler: 'broken.handler' }), root),
    );
    expect(error.code).toBe(ErrorCodes.BUNDLE_FAILED);
    expect(error.message).toContain('"orders"');
    expect(error.message).toMatch(/broken\.ts:\d+:\d+/);
    expect(error.message).toContain('does-not-exist');
  });

  it('names a missing entry (CODE_NOT_FOUND), a non-Node runtime and a handler without export', async () => {
    const root = await fixtureRoot('ts-handler');
    const missing = await thrown(() => loadOne(orders({ entry: 'src/nope.ts' }), root));
    expect(missing.code).toBe(ErrorCodes.CODE_NOT_FOUND);
    expect(missing.message).toContain(join(root, 'src', 'nope.ts'));

    const python = await thrown(() => loadOne(orders({ runtime: 'python3.13' }), root));
    expect(python.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(python.message).toContain('python3.13');

    const handler = await thrown(() => loadOne(orders({ handler: 'handler' }), root));
    expect(handler.code).toBe(ErrorCodes.BAD_HANDLER);
    expect(handler.message).toContain('"handler"');

    const both = await thrown(() => loadOne(orders({ code: 'src' }), root));
    expect(both.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(both.message).toContain('both "code" and "entry"');
  });

  it('an export the entry does not have: BAD_HANDLER naming the entry and its exports (CJS and ESM, built or cached)', async () => {
    const root = await fixtureRoot('ts-handler');
    for (const format of ['cjs', 'esm', 'cjs'] as const) {
      const error = await thrown(() =>
        loadOne(orders({ handler: 'src/handler.main', bundle: { format } }), root),
      );
      expect(error.code).toBe(ErrorCodes.BAD_HANDLER);
      expect(error.message).toContain('"src/handler.main"');
      expect(error.message).toContain(`the export "main", which ${join(root, 'src', 'handler.ts')}`);
      expect(error.message).toContain('its exports: handler');
    }
    // The same bundle, from the cache, with the right export.
    expect((await loadOne(orders(), root)).handler).toBe('index.handler');
  });

  it('does not guess the exports of a CommonJS entry (assigned at run time)', async () => {
    const root = await fixtureRoot('ts-handler');
    await writeFile(
      join(root, 'src', 'legacy.js'),
      "const name = 'handler';\nmodule.exports[name] = async () => 'legacy';\n",
    );
    const spec = await loadOne(
      { functions: { legacy: { runtime: 'nodejs22.x', handler: 'legacy.handler', entry: 'src/legacy.js' } } },
      root,
    );
    expect(runBundle(join(spec.code ?? '', 'index.js'), {}).stdout).toContain('"legacy"');
  });
});
