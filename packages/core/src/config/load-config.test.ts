import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isTestkitError } from '../errors.ts';
import { findConfigFile, loadConfig } from './load-config.ts';

const base = mkdtempSync(join(tmpdir(), 'ltk-config-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function project(name: string, files: Record<string, string>): string {
  const dir = join(base, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

const fn = { runtime: 'nodejs22.x', handler: 'index.handler', code: './fn' };

describe('loadConfig', () => {
  it('loads a TypeScript config natively and resolves root to its folder', async () => {
    const dir = project('ts', {
      'package.json': '{}',
      'lambda-testkit.config.ts': `const backend: 'process' = 'process';\nexport default { backend, functions: { hello: ${JSON.stringify(fn)} } };\n`,
    });
    const loaded = await loadConfig({ cwd: dir });
    expect(loaded.file).toBe(join(dir, 'lambda-testkit.config.ts'));
    expect(loaded.root).toBe(dir);
    expect(loaded.config.backend).toBe('process');
    expect(loaded.config.functions?.hello?.handler).toBe('index.handler');
  });

  it('loads JSON and .mjs (a default-exported function too)', async () => {
    const json = project('json', { 'lambda-testkit.config.json': JSON.stringify({ functions: { a: fn } }) });
    expect(Object.keys((await loadConfig({ cwd: json })).config.functions ?? {})).toEqual(['a']);
    const mjs = project('mjs', {
      'lambda-testkit.config.mjs': `export default async () => ({ functions: { b: ${JSON.stringify(fn)} } });`,
    });
    expect(Object.keys((await loadConfig({ cwd: mjs })).config.functions ?? {})).toEqual(['b']);
  });

  it('walks up to the package root, and no further', async () => {
    const dir = project('walk', {
      'package.json': '{}',
      'lambda-testkit.config.json': JSON.stringify({ functions: { a: fn } }),
      'test/unit/.keep': '',
    });
    expect(findConfigFile(join(dir, 'test', 'unit'))).toBe(join(dir, 'lambda-testkit.config.json'));
    const inner = project('walk/packages/inner', { 'package.json': '{}' });
    expect(findConfigFile(inner)).toBeUndefined();
  });

  it('prefers inline configuration and resolves its root against cwd', async () => {
    const dir = project('inline', { 'lambda-testkit.config.json': '{"functions":{}}' });
    const loaded = await loadConfig({ cwd: dir, inline: { root: 'sub', functions: { x: fn } } });
    expect(loaded.file).toBeUndefined();
    expect(loaded.root).toBe(join(dir, 'sub'));
  });

  it('says where it looked when no file exists', async () => {
    const dir = project('none', { 'package.json': '{}' });
    const err = await loadConfig({ cwd: dir }).catch((e: unknown) => e);
    expect(isTestkitError(err, ErrorCodes.CONFIG_INVALID)).toBe(true);
    expect((err as Error).message).toContain(`lambda-testkit.config.ts`);
    expect((err as Error).message).toContain(dir);
  });

  it('lists every shape problem with what was expected and what was found', async () => {
    const err = await loadConfig({
      cwd: base,
      inline: {
        backend: 'podman',
        kubernetes: { namespace: '', cluster: 'x' },
        maxConcurrency: 0,
        scaleOutWaitMs: -5,
        spareInstances: -1,
        accountId: '42',
        functions: {
          bad: {
            runtime: 'nodejs22.x',
            handler: 'index.handler',
            environment: { A: 1 },
            scaleOutWaitMs: '50',
          },
        },
      } as never,
    }).catch((e: unknown) => e);
    expect(isTestkitError(err, ErrorCodes.CONFIG_INVALID)).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toContain(
      "`backend` must be one of 'docker', 'process', 'kubernetes', 'auto', got the string \"podman\"",
    );
    expect(msg).toContain('`kubernetes.namespace` must be a non-empty string');
    expect(msg).toContain('`kubernetes.cluster` must be one of namespace, context, kubeconfig');
    expect(msg).toContain('`maxConcurrency` must be a positive integer, got number 0');
    expect(msg).toContain('`scaleOutWaitMs` must be a number of milliseconds, 0 or more, got number -5');
    expect(msg).toContain('`functions.bad.scaleOutWaitMs` must be a number');
    expect(msg).toContain('`spareInstances` must be a whole number of at least 0, got number -1');
    expect(msg).toContain('`accountId` must be twelve digits');
    expect(msg).toContain('`functions.bad` needs `code`');
    expect(msg).toContain('`functions.bad.environment` must be an object of string values');
  });

  it('checks bundle options before esbuild sees them, misspelt keys included', async () => {
    const bundled = { runtime: 'nodejs22.x', handler: 'index.handler', entry: 'src/index.ts' };
    const err = await loadConfig({
      cwd: base,
      inline: {
        functions: {
          api: {
            ...bundled,
            bundle: { externals: ['pg'], format: 'umd', minify: 'yes', define: { DEBUG: false } },
          },
          job: { ...bundled, bundle: { loader: { '.sql': 'sql' }, external: 'pg', target: '' } },
          ok: {
            ...bundled,
            bundle: { format: 'esm', loader: { '.sql': 'text' }, define: { DEBUG: 'false' } },
          },
          odd: { ...bundled, bundle: 'esm' },
        },
      } as never,
    }).catch((e: unknown) => e);
    expect(isTestkitError(err, ErrorCodes.CONFIG_INVALID)).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toContain('`functions.api.bundle.externals` is not a bundle option; the options are format,');
    expect(msg).toContain("`functions.api.bundle.format` must be 'cjs' or 'esm', got the string \"umd\"");
    expect(msg).toContain('`functions.api.bundle.minify` must be true or false');
    expect(msg).toContain('`functions.api.bundle.define` must be an object of strings');
    expect(msg).toContain('`functions.job.bundle.loader` must be an object mapping extensions to one of');
    expect(msg).toContain('`functions.job.bundle.external` must be an array of module names');
    expect(msg).toContain('`functions.job.bundle.target` must be an esbuild target');
    expect(msg).toContain('`functions.odd.bundle` must be an object of esbuild options');
    expect(msg).not.toContain('functions.ok');
  });

  it('checks the wiring options (network, hostPorts, awsEndpoints, functionsCanInvoke)', async () => {
    const fn = { runtime: 'nodejs22.x', handler: 'index.handler', code: '.' };
    const err = await loadConfig({
      cwd: base,
      inline: {
        functions: { fn },
        network: 42,
        hostPorts: [8000, 70000],
        awsEndpoints: { dynamodb: 'localhost:8000', 's3!': 'http://127.0.0.1:9000' },
        functionsCanInvoke: 'yes',
      } as never,
    }).catch((e: unknown) => e);
    expect(isTestkitError(err, ErrorCodes.CONFIG_INVALID)).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toContain('`network` must be a Docker network name or a Testcontainers StartedNetwork');
    expect(msg).toContain('`hostPorts` must be an array of port numbers');
    expect(msg).toContain("`awsEndpoints.dynamodb` must be an http(s) URL such as 'http://127.0.0.1:8000'");
    expect(msg).toContain('`awsEndpoints.s3!` must be keyed by an AWS service id');
    expect(msg).toContain('`functionsCanInvoke` must be true or false');
    const ok = await loadConfig({
      cwd: base,
      inline: {
        functions: { fn },
        network: { getName: () => 'tc-net' },
        hostPorts: [8000],
        awsEndpoints: 'http://127.0.0.1:4566',
        functionsCanInvoke: true,
      },
    });
    expect(ok.config.hostPorts).toEqual([8000]);
  });

  it('reports a config file that fails to load, naming it', async () => {
    const dir = project('broken', { 'lambda-testkit.config.mjs': 'export default {;' });
    const err = await loadConfig({ cwd: dir }).catch((e: unknown) => e);
    expect(isTestkitError(err, ErrorCodes.CONFIG_INVALID)).toBe(true);
    expect((err as Error).message).toContain(join(dir, 'lambda-testkit.config.mjs'));
  });
});
