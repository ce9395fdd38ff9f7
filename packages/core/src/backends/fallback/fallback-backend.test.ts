// A mixed run behind one LambdaBackend: functions the primary cannot have run on the fallback,
// and the pool's rules (stats, idle sweep, stop-all, stale sweep, logs) hold across both.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LaunchContext, LaunchedInstance } from '../../backend.ts';
import { BackendError, ErrorCodes, isTestkitError } from '../../errors.ts';
import type { ResolvedFunction } from '../../function-spec.ts';
import { WarmPool } from '../../pool/warm-pool.ts';
import { FakeBackend, type FakeHandle, resolvedFunction } from '../../testing/index.ts';
import { FallbackBackend } from './fallback-backend.ts';

const MISSING = 'registry.example/missing:1';

/** A primary that cannot have MISSING: prepare and launch fail as Docker does without a registry. */
class NoRegistryBackend extends FakeBackend {
  reaped = 0;
  async prepare(fn: ResolvedFunction): Promise<void> {
    if (fn.image === MISSING) throw unavailable();
  }
  override async launch(...args: Parameters<FakeBackend['launch']>) {
    if (args[0].image === MISSING) throw unavailable();
    return super.launch(...args);
  }
  async reapStale(): Promise<number> {
    this.reaped += 1;
    return 2;
  }
}

/** A primary that also prepares instances ahead (as Docker does), and cannot have MISSING. */
class PreparingPrimary extends NoRegistryBackend {
  readonly prepared: string[] = [];
  readonly #contexts = new Map<string, [ResolvedFunction, LaunchContext]>();
  async prepareInstance(f: ResolvedFunction, context: LaunchContext): Promise<FakeHandle> {
    if (f.image === MISSING) throw unavailable();
    this.prepared.push(f.name);
    this.#contexts.set(context.instanceId, [f, context]);
    return { instanceId: context.instanceId, functionName: f.name, deployId: f.deployId };
  }
  async startPrepared(handle: FakeHandle): Promise<LaunchedInstance<FakeHandle>> {
    const [f, context] = this.#contexts.get(handle.instanceId) ?? [];
    if (!f || !context) throw new Error('never prepared');
    return this.launch(f, context);
  }
}

class CountingFallback extends FakeBackend {
  reaped = 0;
  closed = 0;
  async reapStale(): Promise<number> {
    this.reaped += 1;
    return 1;
  }
  async close(): Promise<void> {
    this.closed += 1;
  }
}

function unavailable(): BackendError {
  return new BackendError(
    ErrorCodes.IMAGE_UNAVAILABLE,
    `Image "${MISSING}" is not present and could not be pulled.`,
  );
}

function fn(name: string, over: Partial<ResolvedFunction> = {}): ResolvedFunction {
  return resolvedFunction({ name, deployId: `deploy-${name}`, ...over });
}

function setup() {
  const primary = new NoRegistryBackend();
  const fallback = new CountingFallback();
  const lines: string[] = [];
  let made = 0;
  const backend = new FallbackBackend({
    primary,
    fallback: () => {
      made += 1;
      return fallback;
    },
    fallsBackOn: (f, error) =>
      isTestkitError(error, ErrorCodes.IMAGE_UNAVAILABLE) && f.runtime.startsWith('nodejs')
        ? `image ${f.image} cannot be had here`
        : undefined,
    log: (line) => lines.push(line),
  });
  return { primary, fallback, backend, lines, made: () => made };
}

const pools: WarmPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.stopAll()));
});

function pool(backend: FallbackBackend, idleTtlMs = 60_000): WarmPool {
  const p = new WarmPool({ backend, idleTtlMs, region: 'us-east-1' });
  pools.push(p);
  return p;
}

describe('FallbackBackend', () => {
  it('prepares on the primary; a function it cannot have goes to the fallback, with a notice', async () => {
    const { backend, made } = setup();
    expect(await backend.prepare(fn('containers'))).toBeUndefined();
    expect(made()).toBe(0); // nothing fell back: no fallback backend was made
    expect(backend.name).toBe('fake');
    expect(await backend.prepare(fn('local', { image: MISSING }))).toEqual({
      notice: `run on the fake backend instead: image ${MISSING} cannot be had here`,
    });
    expect([...backend.fallenBack.keys()]).toEqual(['local']);
    expect(backend.name).toBe('fake+fake');
  });

  it("passes on each backend's invoke secret with the instance (the pool must send it)", async () => {
    const { backend, primary, fallback } = setup();
    for (const [inner, secret] of [
      [primary, 'primary-secret'],
      [fallback, 'fallback-secret'],
    ] as const) {
      const launch = inner.launch.bind(inner);
      vi.spyOn(inner, 'launch').mockImplementation(async (...args) => ({
        ...(await launch(...args)),
        invokeSecret: secret,
      }));
    }
    const onPrimary = await backend.launch(fn('containers'), launchContext());
    const onFallback = await backend.launch(fn('local', { image: MISSING }), launchContext());
    await Promise.all([backend.terminate(onPrimary.handle), backend.terminate(onFallback.handle)]);
    expect(onPrimary.invokeSecret).toBe('primary-secret');
    expect(onFallback.invokeSecret).toBe('fallback-secret');
  });

  it('keeps errors it is not told to fall back on (a Python function without its image)', async () => {
    const { backend } = setup();
    const error = await backend.prepare(fn('py', { runtime: 'python3.13', image: MISSING })).catch((e) => e);
    expect(error).toMatchObject({ code: ErrorCodes.IMAGE_UNAVAILABLE });
    await expect(
      backend.launch(fn('py', { runtime: 'python3.13', image: MISSING }), launchContext()),
    ).rejects.toMatchObject({
      code: ErrorCodes.IMAGE_UNAVAILABLE,
    });
  });

  it('prepares spare instances on the backend the function runs on, and starts them there', async () => {
    const primary = new PreparingPrimary();
    const backend = new FallbackBackend({
      primary,
      fallback: () => new FakeBackend(),
      fallsBackOn: () => 'no image here',
      log: () => {},
    });
    const prepared = await backend.prepareInstance(fn('containers'), launchContext());
    expect(prepared.backend).toBe(primary);
    expect(primary.prepared).toEqual(['containers']);
    const started = await backend.startPrepared(prepared);
    expect(started.handle).toBe(prepared);
    await backend.terminate(started.handle);
    expect(primary.terminations).toHaveLength(1);
    // A function routed to a fallback that prepares nothing: the preparation fails, the pool launches.
    const local = await backend.launch(fn('local', { image: MISSING }), launchContext());
    await backend.terminate(local.handle);
    await expect(backend.prepareInstance(fn('local', { image: MISSING }), launchContext())).rejects.toThrow(
      /prepares no instances ahead/,
    );
  });

  it('falls back at launch for a function no prepare saw, saying so once', async () => {
    const { backend, primary, fallback, lines } = setup();
    const p = pool(backend);
    p.register(fn('late', { image: MISSING }));
    await p.invoke('late', Buffer.from('{"a":1}'));
    await p.evict('late');
    await p.invoke('late', Buffer.from('{"a":2}'));
    expect(primary.launches).toHaveLength(0);
    expect(fallback.launches.map((l) => l.functionName)).toEqual(['late', 'late']);
    expect(lines).toEqual([`late: run on the fake backend instead: image ${MISSING} cannot be had here`]);
  });

  it('a mixed run keeps the pool rules: stats, logs, idle sweep, stop-all, stale sweep and close reach both', async () => {
    const { backend, primary, fallback } = setup();
    await backend.prepare(fn('local', { image: MISSING }));
    const p = pool(backend, 150);
    p.register(fn('containers'));
    p.register(fn('local', { image: MISSING }));
    const [a, b] = await Promise.all([
      p.invoke('containers', Buffer.from('{"n":1}')),
      p.invoke('local', Buffer.from('{"n":2}')),
    ]);
    expect(a.coldStart && b.coldStart).toBe(true);
    expect(a.logs.join('\n')).toContain('REPORT'); // logs come through the launching backend
    expect(b.logs.join('\n')).toContain('REPORT');
    expect(primary.launches.map((l) => l.functionName)).toEqual(['containers']);
    expect(fallback.launches.map((l) => l.functionName)).toEqual(['local']);
    const stats = p.stats();
    expect(stats.containers).toMatchObject({ invocations: 1, coldStarts: 1 });
    expect(stats.local).toMatchObject({ invocations: 1, coldStarts: 1 });

    // The idle sweep terminates each instance on its own backend.
    // The pool forgets an instance before its backend's terminate settles: wait for both.
    await vi.waitFor(
      () => {
        expect(p.list()).toHaveLength(0);
        expect(primary.running()).toEqual([]);
        expect(fallback.running()).toEqual([]);
      },
      { timeout: 5_000, interval: 20 },
    );

    // Stop-all reaches instances of both backends. A pool without the short idle TTL: on a loaded
    // machine the sweep could otherwise stop the first instance while the second call still runs.
    const q = pool(backend);
    q.register(fn('containers'));
    q.register(fn('local', { image: MISSING }));
    await Promise.all([q.invoke('containers', Buffer.from('{}')), q.invoke('local', Buffer.from('{}'))]);
    expect(primary.running()).toHaveLength(1);
    expect(fallback.running()).toHaveLength(1);
    await q.stopAll();
    expect(primary.running()).toEqual([]);
    expect(fallback.running()).toEqual([]);

    expect(await backend.reapStale()).toBe(3);
    expect([primary.reaped, fallback.reaped]).toEqual([1, 1]);
    await backend.close();
    expect(fallback.closed).toBe(1);
  });
});

function launchContext() {
  return { instanceId: 'i-1', runId: 'r-1', region: 'us-east-1', accountId: '123456789012' };
}

describe('FallbackBackend wiring (docs/wiring.md)', () => {
  it('wires the primary and gives a function on the fallback its own host name for the host', async () => {
    class HostedFake extends FakeBackend {
      readonly sandboxHost: string;
      readonly wired: unknown[] = [];
      constructor(sandboxHost: string) {
        super();
        this.sandboxHost = sandboxHost;
      }
      async wire(wiring: unknown) {
        this.wired.push(wiring);
        return { address: '10.0.0.1' };
      }
    }
    const primary = new HostedFake('host.lambda-testkit.internal');
    const fallback = new HostedFake('127.0.0.1');
    const seen: Record<string, string>[] = [];
    const original = fallback.launch.bind(fallback);
    fallback.launch = async (f, context) => {
      seen.push(f.environment);
      return original(f, context);
    };
    const backend = new FallbackBackend({
      primary,
      fallback: () => fallback,
      fallsBackOn: () => 'no image',
      log: () => {},
    });
    expect(backend.sandboxHost).toBe('host.lambda-testkit.internal');
    expect(await backend.wire({ hostPorts: [8000] })).toEqual({ address: '10.0.0.1' });
    expect(primary.wired).toEqual([{ hostPorts: [8000] }]);
    primary.failNextLaunches(1);
    const wired = fn('api', {
      environment: {
        LAMBDA_TESTKIT_HOST: 'host.lambda-testkit.internal',
        AWS_ENDPOINT_URL_DYNAMODB: 'http://host.lambda-testkit.internal:8000',
      },
    });
    const launched = await backend.launch(wired, {
      instanceId: 'i-1',
      runId: 'run-1',
      region: 'us-east-1',
      accountId: '123456789012',
    });
    expect(seen).toEqual([
      { LAMBDA_TESTKIT_HOST: '127.0.0.1', AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000' },
    ]);
    await backend.terminate(launched.handle);
    await backend.close();
  });
});
