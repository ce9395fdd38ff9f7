import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { PrepareProgress } from '../backend.ts';
import { imageUnavailable } from '../backends/docker/image-pull.ts';
import { PoolClient } from '../client/pool-client.ts';
import { loadConfig } from '../config/load-config.ts';
import type { TestkitConfig } from '../config.ts';
import { DEBUG_TIMEOUT_SECONDS } from '../debug.ts';
import { ErrorCodes, isTestkitError } from '../errors.ts';
import type { ResolvedFunction } from '../function-spec.ts';
import { FakeBackend, resolvedFunction } from '../testing/index.ts';
import { architectureWarning } from './architecture.ts';
import { acquirePoolHost, currentPoolHost, poolHostSummary, releasePoolHost } from './host-registry.ts';
import { PoolHost } from './pool-host.ts';
import { formatSummary } from './summary.ts';

const root = mkdtempSync(join(tmpdir(), 'ltk-host-'));
function writeFn(name: string, body: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.js'), body);
  return dir;
}
writeFn('orders', 'exports.handler = async (e) => e;\n');
writeFn('users', 'exports.handler = async () => "users";\n');

const config: TestkitConfig = {
  functions: {
    orders: { runtime: 'nodejs22.x', handler: 'index.handler', code: './orders' },
    users: { runtime: 'nodejs22.x', handler: 'index.handler', code: './users' },
  },
};
const quiet = () => {};

afterEach(async () => {
  // Leave no host behind for the next test, whatever it did.
  while (currentPoolHost()) await releasePoolHost({ keepAlive: false });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('acquirePoolHost / releasePoolHost', () => {
  it('starts one host per process and shares it across acquires; the last release stops it', async () => {
    const backend = new FakeBackend();
    const a = await acquirePoolHost(config, { root, backend, log: quiet });
    const b = await acquirePoolHost(config, { root, backend: new FakeBackend(), log: quiet });
    expect(b.url).toBe(a.url);
    expect(b.token).toBe(a.token);
    expect(b.host).toBe(a.host);

    const client = new PoolClient({ url: a.url, token: a.token });
    expect((await client.invoke('orders', { id: 1 })).payload).toEqual({ id: 1 });

    await releasePoolHost();
    expect(currentPoolHost()).toBe(a.host);
    expect((await client.invoke('orders', { id: 2 })).coldStart).toBe(false);

    await releasePoolHost();
    expect(currentPoolHost()).toBeUndefined();
    expect(backend.running()).toEqual([]);
    const err = await client.invoke('orders', {}).catch((e: unknown) => e);
    expect(isTestkitError(err, ErrorCodes.SERVER_UNREACHABLE)).toBe(true);
    await client.close();
    // The reporter can still print the run after teardown.
    expect(poolHostSummary().find((r) => r.function === 'orders')).toMatchObject({
      coldStarts: 1,
      warmHits: 1,
    });
  });

  it('concurrent first acquires start exactly one host', async () => {
    const backend = new FakeBackend();
    const handles = await Promise.all(
      [1, 2, 3].map(() => acquirePoolHost(config, { root, backend, log: quiet })),
    );
    expect(new Set(handles.map((h) => h.url)).size).toBe(1);
    for (const _ of handles) await releasePoolHost();
    expect(currentPoolHost()).toBeUndefined();
  });

  it('keepAlive keeps instances warm for the next acquire (config restart, watch)', async () => {
    const backend = new FakeBackend();
    const first = await acquirePoolHost(config, { root, backend, log: quiet });
    const client = new PoolClient({ url: first.url, token: first.token });
    expect((await client.invoke('users')).coldStart).toBe(true);
    await releasePoolHost({ keepAlive: true });
    const second = await acquirePoolHost(config, { root, log: quiet });
    expect(second.url).toBe(first.url);
    expect((await client.invoke('users')).coldStart).toBe(false);
    expect(backend.launches).toHaveLength(1);
    await client.close();
  });

  it('refresh() gives edited code a new deploy id and a fresh instance on the next call', async () => {
    const backend = new FakeBackend();
    const { url, token, host } = await acquirePoolHost(config, { root, backend, log: quiet });
    const client = new PoolClient({ url, token });
    const before = await client.invoke('orders', {});
    expect(await host.refresh()).toEqual([]);
    expect((await client.invoke('orders', {})).instanceId).toBe(before.instanceId);

    writeFn('orders', 'exports.handler = async (e) => ({ v: 2, e });\n');
    expect(await host.refresh()).toEqual(['orders']);
    const after = await client.invoke('orders', {});
    expect(after.coldStart).toBe(true);
    expect(after.instanceId).not.toBe(before.instanceId);
    expect(new Set(backend.launches.map((l) => l.deployId)).size).toBe(2);
    await client.close();
  });

  it('a config restart without a function unregisters it and stops its instances', async () => {
    const backend = new FakeBackend();
    const lines: string[] = [];
    const first = await acquirePoolHost(config, { root, backend, log: (line) => lines.push(line) });
    const client = new PoolClient({ url: first.url, token: first.token });
    const users = await client.invoke('users');
    await client.invoke('orders', {});
    await releasePoolHost({ keepAlive: true });

    const { orders } = config.functions ?? {};
    await acquirePoolHost({ functions: { orders: orders! } }, { root, log: (line) => lines.push(line) });
    const err = await client.invoke('users').catch((e: unknown) => e);
    expect(isTestkitError(err, ErrorCodes.UNKNOWN_FUNCTION)).toBe(true);
    expect((err as Error).message).toMatch(/Known functions: orders\./);
    expect(backend.terminations).toEqual([users.instanceId]);
    expect((await client.invoke('orders', {})).coldStart).toBe(false); // the kept one stays warm
    expect(lines).toContain('no longer declared: users (removed, instances stopped)');

    // Another configuration (a second project's root) keeps what it declares.
    const other = mkdtempSync(join(tmpdir(), 'ltk-host-other-'));
    writeFileSync(join(other, 'index.js'), 'exports.handler = async () => "other";\n');
    try {
      await acquirePoolHost(
        { functions: { users: { runtime: 'nodejs22.x', handler: 'index.handler', code: '.' } } },
        { root: other, log: quiet },
      );
      expect((await client.invoke('users', { again: 1 })).payload).toEqual({ again: 1 });
      expect(currentPoolHost()?.pool.functionNames().sort()).toEqual(['orders', 'users']);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    await client.close();
  });

  it('refresh() unregisters a function removed from a SAM template, and its alias', async () => {
    writeFn('tmpl-a', 'exports.handler = async () => "a";\n');
    writeFn('tmpl-b', 'exports.handler = async () => "b";\n');
    const template = (names: string[]) =>
      [
        'Resources:',
        ...names.flatMap((n) => [
          `  Fn${n.toUpperCase()}:`,
          '    Type: AWS::Serverless::Function',
          '    Properties:',
          `      FunctionName: tmpl-fn-${n}`,
          `      CodeUri: tmpl-${n}/`,
          '      Handler: index.handler',
          '      Runtime: nodejs22.x',
        ]),
        '',
      ].join('\n');
    writeFileSync(join(root, 'removal.yaml'), template(['a', 'b']));
    const backend = new FakeBackend();
    const { url, token, host } = await acquirePoolHost(
      { sam: { template: './removal.yaml' } },
      { root, backend, log: quiet },
    );
    const client = new PoolClient({ url, token });
    const names = host.pool.functionNames();
    expect(names).toHaveLength(2);
    expect((await client.invoke('tmpl-fn-b', { b: 1 })).payload).toEqual({ b: 1 });

    writeFileSync(join(root, 'removal.yaml'), template(['a']));
    await host.refresh();
    expect(host.pool.functionNames()).toHaveLength(1);
    const err = await client.invoke('tmpl-fn-b').catch((e: unknown) => e);
    expect(isTestkitError(err, ErrorCodes.UNKNOWN_FUNCTION)).toBe(true);
    expect((await client.invoke('tmpl-fn-a', { a: 1 })).payload).toEqual({ a: 1 });
    expect(backend.terminations).toHaveLength(1);
    await client.close();
  });

  it('refresh() reads the config file again: added, changed and removed functions apply', async () => {
    const file = join(root, 'reread.config.mjs');
    const declare = (functions: Record<string, { timeout?: number }>) =>
      writeFileSync(
        file,
        `export default { functions: ${JSON.stringify(
          Object.fromEntries(
            Object.entries(functions).map(([name, more]) => [
              name,
              { runtime: 'nodejs22.x', handler: 'index.handler', code: `./${name}`, ...more },
            ]),
          ),
        )} };\n`,
      );
    // Each edit must look newer to the module cache (it is keyed by the file's mtime).
    const touch = (() => {
      let t = Date.now() / 1000;
      return () => {
        t += 5;
        utimesSync(file, t, t);
      };
    })();
    declare({ orders: {} });
    const loaded = await loadConfig({ cwd: root, configFile: file });
    const lines: string[] = [];
    const backend = new FakeBackend();
    const { url, token, host } = await acquirePoolHost(loaded.config, {
      root: loaded.root,
      configFile: loaded.file,
      backend,
      log: (line) => lines.push(line),
    });
    const client = new PoolClient({ url, token });
    await client.invoke('orders', {});

    declare({ orders: { timeout: 9 }, users: {} });
    touch();
    expect(await host.refresh()).toEqual(['orders']);
    expect(host.pool.getFunction('orders')?.timeout).toBe(9);
    expect((await client.invoke('users', { u: 1 })).payload).toEqual({ u: 1 });
    // What watch mode reruns on: the config file and every function's code folder.
    expect(host.watchedPaths().sort()).toEqual([join(root, 'orders'), file, join(root, 'users')].sort());

    writeFileSync(file, 'export default {{ not javascript\n');
    touch();
    await host.refresh();
    expect(lines.some((l) => l.startsWith(`could not read ${file} again`))).toBe(true);
    expect(host.pool.functionNames().sort()).toEqual(['orders', 'users']);

    declare({ users: {} });
    touch();
    await host.refresh();
    expect(host.pool.functionNames()).toEqual(['users']);
    const err = await client.invoke('orders', {}).catch((e: unknown) => e);
    expect(isTestkitError(err, ErrorCodes.UNKNOWN_FUNCTION)).toBe(true);
    await client.close();
  });

  it('watchedPaths() names the files a bundled entry was built from, not the bundle', async () => {
    mkdirSync(join(root, 'bundled'), { recursive: true });
    writeFileSync(join(root, 'bundled/greeting.ts'), "export const greeting: string = 'hi';\n");
    writeFileSync(
      join(root, 'bundled/entry.ts'),
      "import { greeting } from './greeting.ts';\nexport const handler = async () => greeting;\n",
    );
    const { host } = await acquirePoolHost(
      {
        functions: {
          bundled: { runtime: 'nodejs22.x', entry: './bundled/entry.ts', handler: 'entry.handler' },
        },
      },
      { root, backend: new FakeBackend(), log: quiet },
    );
    expect(host.watchedPaths().sort()).toEqual([
      join(root, 'bundled/entry.ts'),
      join(root, 'bundled/greeting.ts'),
    ]);
  });

  it('prints a template warning once, not again on every watch rerun', async () => {
    writeFn('tables', 'exports.handler = async () => process.env.TABLE;\n');
    writeFileSync(
      join(root, 'template.yaml'),
      [
        'Resources:',
        '  Orders:',
        '    Type: AWS::Serverless::Function',
        '    Properties:',
        '      CodeUri: tables/',
        '      Handler: index.handler',
        '      Runtime: nodejs22.x',
        '      Environment:',
        '        Variables:',
        '          TABLE: !Ref OrdersTable',
        '  OrdersTable:',
        '    Type: AWS::DynamoDB::Table',
        '',
      ].join('\n'),
    );
    const lines: string[] = [];
    const { host } = await acquirePoolHost(
      { sam: { template: './template.yaml' } },
      { root, backend: new FakeBackend(), log: (line) => lines.push(line) },
    );
    const warnings = () => lines.filter((line) => line.includes('TABLE'));
    expect(warnings()).toHaveLength(1);
    await host.refresh();
    await host.refresh();
    expect(warnings()).toHaveLength(1);
  });

  it('prewarms the listed functions before the tests start', async () => {
    const backend = new FakeBackend();
    await acquirePoolHost({ ...config, prewarm: ['users'] }, { root, backend, log: quiet });
    expect(backend.launches.map((l) => l.functionName)).toEqual(['users']);
  });

  it.each([
    ['launches a second instance at once by default', {}, 2],
    ['waits for the busy instance with scaleOutWaitMs', { scaleOutWaitMs: 60_000 }, 1],
    ["waits with a function's own scaleOutWaitMs", { functionWaitMs: 60_000 }, 1],
  ] as const)('scale-out from two parallel clients: %s', async (_, options, launches) => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const backend = new FakeBackend({
      handler: () => async (r) => {
        await gate;
        return { body: r.body };
      },
    });
    const orders = {
      ...config.functions?.orders,
      ...('functionWaitMs' in options ? { scaleOutWaitMs: options.functionWaitMs } : {}),
    } as NonNullable<TestkitConfig['functions']>[string];
    const { url, token, host } = await acquirePoolHost(
      {
        functions: { orders },
        prewarm: true,
        ...('scaleOutWaitMs' in options ? { scaleOutWaitMs: options.scaleOutWaitMs } : {}),
      },
      { root, backend, log: quiet },
    );
    const [a, b] = [new PoolClient({ url, token }), new PoolClient({ url, token })];
    const first = a.invoke('orders', 1);
    await vi.waitFor(() => expect(host.pool.list()[0]?.state).toBe('busy'));
    const second = b.invoke('orders', 2);
    if (launches === 2) await vi.waitFor(() => expect(backend.launches).toHaveLength(2));
    else await new Promise((resolve) => setTimeout(resolve, 50));
    open();
    expect((await Promise.all([first, second])).map((r) => r.payload)).toEqual([1, 2]);
    expect(backend.launches).toHaveLength(launches);
    await Promise.all([a.close(), b.close()]);
  });

  it("makes every function's image present at setup, once per image, before any launch", async () => {
    const prepared: string[] = [];
    const backend = new (class extends FakeBackend {
      async prepare(fn: ResolvedFunction, onProgress?: (p: PrepareProgress) => void): Promise<void> {
        expect(this.launches).toEqual([]);
        prepared.push(fn.image ?? fn.runtime);
        onProgress?.({ message: `pulled ${fn.image ?? fn.runtime}` });
      }
    })();
    const lines: string[] = [];
    const three: TestkitConfig = {
      functions: { ...config.functions, other: { ...config.functions?.orders, image: 'custom:1' } },
    } as TestkitConfig;
    await acquirePoolHost(three, { root, backend, log: (l) => lines.push(l) });
    expect(prepared.sort()).toEqual(['custom:1', 'nodejs22.x']);
    expect(lines).toContain('pulled custom:1');
    expect(backend.launches).toEqual([]);
  });

  it('fails the setup once, naming every image that cannot be had, and leaves nothing running', async () => {
    const backend = new (class extends FakeBackend {
      async prepare(fn: ResolvedFunction): Promise<void> {
        const image = fn.image ?? fn.runtime;
        if (image !== 'nodejs22.x') throw imageUnavailable(image, 'no such host');
      }
    })();
    const one = await acquirePoolHost(
      {
        functions: { ...config.functions, a: { ...config.functions?.orders, image: 'missing:a' } },
      } as TestkitConfig,
      { root, backend, log: quiet },
    ).catch((e: unknown) => e);
    expect(isTestkitError(one, ErrorCodes.IMAGE_UNAVAILABLE)).toBe(true);
    expect((one as Error).message).toMatch(
      /Image "missing:a" is not present.*LAMBDA_TESTKIT_BACKEND=process/s,
    );
    expect(currentPoolHost()).toBeUndefined();

    const two = await acquirePoolHost(
      {
        functions: {
          a: { ...config.functions?.orders, image: 'missing:a' },
          b: { ...config.functions?.users, image: 'missing:b' },
        },
      } as TestkitConfig,
      { root, backend, log: quiet },
    ).catch((e: unknown) => e);
    expect(isTestkitError(two, ErrorCodes.IMAGE_UNAVAILABLE)).toBe(true);
    expect((two as Error).message).toMatch(/^2 images could not be made present/);
    expect((two as Error).message).toContain('"missing:a"');
    expect((two as Error).message).toContain('"missing:b"');
    expect(backend.launches).toEqual([]);
    expect(currentPoolHost()).toBeUndefined();
  });

  it('fails clearly, and leaves nothing running, on a bad declaration', async () => {
    const backend = new FakeBackend();
    const bad: TestkitConfig = {
      functions: { gone: { runtime: 'nodejs22.x', handler: 'index.handler', code: './gone' } },
    };
    const err = await acquirePoolHost(bad, { root, backend, log: quiet }).catch((e: unknown) => e);
    expect(isTestkitError(err, ErrorCodes.CODE_NOT_FOUND)).toBe(true);
    expect(currentPoolHost()).toBeUndefined();
    const none = await acquirePoolHost({ functions: {} }, { root, backend, log: quiet }).catch(
      (e: unknown) => e,
    );
    expect((none as Error).message).toMatch(/declares no functions/);
    const unknown = await acquirePoolHost(
      { ...config, prewarm: ['nope'] },
      { root, backend, log: quiet },
    ).catch((e: unknown) => e);
    expect(isTestkitError(unknown, ErrorCodes.UNKNOWN_FUNCTION)).toBe(true);
    expect(currentPoolHost()).toBeUndefined();
  });

  it('honours LAMBDA_TESTKIT_BACKEND and rejects a bad value', async () => {
    process.env.LAMBDA_TESTKIT_BACKEND = 'podman';
    try {
      const err = await acquirePoolHost(config, { root, log: quiet }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(
        /LAMBDA_TESTKIT_BACKEND must be docker, process, kubernetes or auto/,
      );
    } finally {
      delete process.env.LAMBDA_TESTKIT_BACKEND;
    }
  });
});

describe('architectureWarning', () => {
  const fn = (name: string, architecture: 'x86_64' | 'arm64') => resolvedFunction({ name, architecture });

  it("names the functions whose declared CPU is not the machine's, once", () => {
    expect(architectureWarning([fn('a', 'x86_64'), fn('b', 'x86_64')], 'x86_64')).toBeUndefined();
    expect(architectureWarning([fn('a', 'arm64'), fn('b', 'x86_64'), fn('c', 'arm64')], 'x86_64')).toBe(
      "a, c declare arm64 but run on this machine's x86_64 (lambda-testkit does not emulate another CPU): " +
        'JavaScript behaves the same, native modules or binaries built for arm64 will not load.',
    );
    expect(architectureWarning([fn('a', 'x86_64')], 'arm64')).toMatch(/^a declares x86_64 but runs on/);
  });

  it('is printed once by a host, also across watch reruns', async () => {
    const lines: string[] = [];
    const foreign = process.arch === 'arm64' ? 'x86_64' : 'arm64';
    const mixed = {
      functions: { ...config.functions, users: { ...config.functions?.users, architecture: foreign } },
    } as TestkitConfig;
    const { host } = await acquirePoolHost(mixed, {
      root,
      backend: new FakeBackend(),
      log: (l) => lines.push(l),
    });
    await host.refresh();
    const warnings = lines.filter((l) => l.includes('does not emulate another CPU'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^users declares ${foreign} but runs on`));
  });
});

describe('formatSummary', () => {
  it('prints one aligned row per function', () => {
    const text = formatSummary([
      {
        function: 'orders',
        invocations: 12,
        coldStarts: 1,
        warmHits: 11,
        errors: 2,
        p50Ms: 3.21,
        p95Ms: 10,
        launches: 1,
      },
      {
        function: 'users',
        invocations: 0,
        coldStarts: 0,
        warmHits: 0,
        errors: 0,
        p50Ms: 0,
        p95Ms: 0,
        launches: 0,
      },
    ]);
    expect(text.split('\n')).toEqual([
      'lambda-testkit',
      'function  invokes  cold  warm  p50 ms  p95 ms  errors',
      'orders         12     1    11     3.2    10.0       2',
      'users           0     0     0       -       -       0',
    ]);
    expect(formatSummary([])).toBe('lambda-testkit: no function was invoked.');
  });

  it('adds an events column with the failed Event calls when the run made any', () => {
    const row = { invocations: 4, coldStarts: 1, warmHits: 3, errors: 3, p50Ms: 1, p95Ms: 2, launches: 1 };
    const text = formatSummary([
      { function: 'mailer', ...row, events: 2, eventsFailed: 1 },
      { function: 'orders', ...row },
    ]);
    expect(text.split('\n').slice(1)).toEqual([
      'function  invokes  cold  warm  p50 ms  p95 ms  errors        events',
      'mailer          4     1     3     1.0     2.0       3  2 (1 failed)',
      'orders          4     1     3     1.0     2.0       3             0',
    ]);
  });
});

describe('PoolHost lifecycle', () => {
  it('`await using` a host of its own stops server, instances and backend at the end of the scope', async () => {
    const backend = new FakeBackend();
    let url: string;
    let token: string;
    {
      await using host = await PoolHost.start(config, { root, backend, log: quiet });
      ({ url, token } = host);
      await using client = new PoolClient({ url, token });
      expect((await client.invoke('orders', { id: 3 })).payload).toEqual({ id: 3 });
      expect(backend.running()).toHaveLength(1);
      // A host of its own is not the process-wide one.
      expect(currentPoolHost()).toBeUndefined();
    }
    expect(backend.running()).toEqual([]);
    await using after = new PoolClient({ url, token });
    await expect(after.invoke('orders', {})).rejects.toMatchObject({ code: ErrorCodes.SERVER_UNREACHABLE });
  });
});

describe('PoolHost with a debugged function', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('launches the functions LAMBDA_TESTKIT_DEBUG names with debug on, and lifts the clients deadline', async () => {
    const backend = new FakeBackend();
    {
      await using plain = await PoolHost.start(config, { root, backend, log: quiet });
      expect(plain.clientRequestTimeoutMs()).toBeUndefined();
    }
    vi.stubEnv('LAMBDA_TESTKIT_DEBUG', 'orders');
    await using host = await PoolHost.start(config, { root, backend, log: quiet });
    expect(host.pool.getFunction('orders')?.debug).toEqual({ wait: false });
    expect(host.pool.getFunction('users')?.debug).toBeUndefined();
    expect(host.clientRequestTimeoutMs()).toBeGreaterThan(DEBUG_TIMEOUT_SECONDS * 1000);
  });
});
