import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LaunchContext, LaunchedInstance } from '../backend.ts';
import { BackendError, ConfigError, ErrorCodes, InvokeError, type LambdaTestkitError } from '../errors.ts';
import type { ResolvedFunction } from '../function-spec.ts';
import {
  FakeBackend,
  type FakeBackendOptions,
  type FakeHandle,
  type FakeRieReply,
  resolvedFunction,
} from '../testing/index.ts';
import { InstanceClient } from './invoke-client.ts';
import type { WarmPoolOptions } from './pool-types.ts';
import { WarmPool } from './warm-pool.ts';

const pools: WarmPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.stopAll()));
  vi.restoreAllMocks();
});

/**
 * Counts the calls the pool has in flight on each instance's client at once. The FakeRie's own peak
 * cannot catch a pool that hands one instance to two callers: the instance's undici client (one
 * connection, pipelining 1) holds the second request back until the first answer is read, so the
 * server still sees one request at a time. Counted here, such a double booking shows as a peak of 2.
 */
function trackClientOverlap(): { readonly peak: number } {
  const inFlight = new Map<string, number>();
  let peak = 0;
  const original = InstanceClient.prototype.invoke;
  vi.spyOn(InstanceClient.prototype, 'invoke').mockImplementation(async function (
    this: InstanceClient,
    request,
  ) {
    const count = (inFlight.get(this.endpoint) ?? 0) + 1;
    inFlight.set(this.endpoint, count);
    peak = Math.max(peak, count);
    try {
      return await original.call(this, request);
    } finally {
      inFlight.set(this.endpoint, (inFlight.get(this.endpoint) ?? 1) - 1);
    }
  });
  return {
    get peak() {
      return peak;
    },
  };
}

function fn(name = 'orders', deployId = 'deploy-1', over: Partial<ResolvedFunction> = {}): ResolvedFunction {
  return resolvedFunction({ name, deployId, ...over });
}

function setup(
  backendOptions: FakeBackendOptions = {},
  poolOptions: Partial<WarmPoolOptions> = {},
  functions: ResolvedFunction[] = [fn()],
) {
  const backend = new FakeBackend(backendOptions);
  const pool = new WarmPool({ backend, logWaitMs: 200, ...poolOptions });
  pools.push(pool);
  for (const f of functions) pool.register(f);
  return { backend, pool };
}

/** A handler that answers with the event once `gate` resolves. */
const held =
  (gate: Promise<void>) =>
  async (r: { body: Buffer }): Promise<{ body: Buffer }> => {
    await gate;
    return { body: r.body };
  };

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

/** A promise resolved from outside, to hold a handler mid-call. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function rejectionOf(p: Promise<unknown>): Promise<LambdaTestkitError> {
  const outcome = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (outcome === undefined) throw new Error('expected a rejection');
  return outcome as LambdaTestkitError;
}

describe('WarmPool throttling (reservedConcurrency)', () => {
  it('refuses a call over the reserved concurrency at once, and admits one again when a call ends', async () => {
    const gate = deferred();
    const { backend, pool } = setup({ handler: () => held(gate.promise) }, { maxConcurrency: 10 }, [
      fn('orders', 'deploy-1', { reservedConcurrency: 2 }),
    ]);
    const running = [pool.invoke('orders', bytes(1)), pool.invoke('orders', bytes(2))];
    const refused = await rejectionOf(pool.invoke('orders', bytes(3)));
    expect(refused.code).toBe(ErrorCodes.THROTTLED);
    expect(refused.message).toContain('reservedConcurrency 2');
    expect(refused.details).toMatchObject({ reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
    // throttle: false (Event calls) waits for a free slot instead; the limit still caps instances.
    const queued = pool.invoke('orders', bytes(4), { throttle: false });
    gate.resolve();
    const results = await Promise.all([...running, queued]);
    expect(results.map((r) => r.json)).toEqual([1, 2, 4]);
    expect(backend.launches.length).toBe(2);
    expect((await pool.invoke('orders', bytes(5))).json).toBe(5);
    expect(pool.stats().orders).toMatchObject({ throttles: 1, invocations: 4 });
  });

  it('refuses every call with reservedConcurrency 0, and never throttles without it', async () => {
    const gate = deferred();
    const { pool } = setup({ handler: () => held(gate.promise) }, { maxConcurrency: 1 }, [
      fn('off', 'deploy-1', { reservedConcurrency: 0 }),
      fn('orders'),
    ]);
    expect((await rejectionOf(pool.invoke('off', bytes(1)))).code).toBe(ErrorCodes.THROTTLED);
    expect((await rejectionOf(pool.invoke('off', bytes(1), { throttle: false }))).code).toBe(
      ErrorCodes.THROTTLED,
    );
    const calls = [pool.invoke('orders', bytes(1)), pool.invoke('orders', bytes(2))];
    gate.resolve();
    expect((await Promise.all(calls)).map((r) => r.json)).toEqual([1, 2]);
    expect(pool.stats().orders?.throttles).toBe(0);
  });
});

describe('WarmPool concurrency', () => {
  it('serves 50 concurrent calls with one request per instance and at most maxConcurrency launches', async () => {
    const overlap = trackClientOverlap();
    const { backend, pool } = setup({ handler: () => (r) => ({ body: r.body, delayMs: 5 }) });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => pool.invoke('orders', bytes({ i }))),
    );
    expect(results.map((r) => r.kind)).toEqual(Array(50).fill('success'));
    expect(results.map((r) => r.json)).toEqual(Array.from({ length: 50 }, (_, i) => ({ i })));
    expect(backend.peakConcurrencyPerInstance()).toBe(1);
    expect(overlap.peak).toBe(1);
    expect(backend.launches.length).toBeLessThanOrEqual(10);
    expect(backend.launches.length).toBeGreaterThan(1); // the calls really overlapped
    const stats = pool.stats().orders!;
    expect(stats.coldStarts + stats.warmHits).toBe(50);
    expect(stats.coldStarts).toBe(backend.launches.length);
    expect(stats.invocations).toBe(50);
    expect(stats.queueWaits).toBe(40);
    expect(stats.durationsMs.count).toBe(50);
  });

  it('launches no more instances than concurrent first calls need', async () => {
    const overlap = trackClientOverlap();
    const gate = deferred();
    const { backend, pool } = setup(
      { handler: () => held(gate.promise) },
      { maxConcurrency: 10, maxConcurrentLaunches: 3 },
    );
    const calls = Array.from({ length: 20 }, () => pool.invoke('orders', bytes(1)));
    await vi.waitFor(() => expect(pool.list().filter((i) => i.state === 'busy')).toHaveLength(10));
    gate.resolve();
    const results = await Promise.all(calls);
    expect(backend.launchAttempts).toBe(10);
    expect(results.filter((r) => r.coldStart)).toHaveLength(10);
    expect(backend.peakConcurrentLaunches).toBeLessThanOrEqual(3);
    expect(backend.peakConcurrencyPerInstance()).toBe(1);
    expect(overlap.peak).toBe(1);
  });

  it('reuses one warm instance for sequential calls', async () => {
    const { backend, pool } = setup();
    const first = await pool.invoke('orders', bytes('a'));
    const second = await pool.invoke('orders', bytes('b'));
    expect(backend.launches).toHaveLength(1);
    expect(first.coldStart).toBe(true);
    expect(second.coldStart).toBe(false);
    expect(second.instanceId).toBe(first.instanceId);
    expect(pool.stats().orders).toMatchObject({ coldStarts: 1, warmHits: 1, launches: 1 });
  });

  it('launches concurrent first calls up to their number only', async () => {
    const gate = deferred();
    const { backend, pool } = setup({ handler: () => held(gate.promise) });
    const calls = Array.from({ length: 4 }, () => pool.invoke('orders', bytes(1)));
    await vi.waitFor(() => expect(pool.list()).toHaveLength(4));
    gate.resolve();
    await Promise.all(calls);
    expect(backend.launchAttempts).toBe(4);
  });
});

describe('WarmPool scale-out policy (scaleOutWaitMs)', () => {
  it('launches at once for a call that finds every instance busy, by default (as Lambda scales out)', async () => {
    const gate = deferred();
    const { backend, pool } = setup({ handler: () => held(gate.promise) });
    await pool.prewarm('orders');
    const first = pool.invoke('orders', bytes(1));
    const second = pool.invoke('orders', bytes(2));
    await vi.waitFor(() => expect(backend.launches).toHaveLength(2));
    gate.resolve();
    expect((await second).coldStart).toBe(true);
    expect((await first).coldStart).toBe(false);
  });

  it('waits for the busy instance instead, and gets it warm when it frees up within the wait', async () => {
    const overlap = trackClientOverlap();
    const gate = deferred();
    const { backend, pool } = setup({ handler: () => held(gate.promise) }, { scaleOutWaitMs: 60_000 });
    await pool.prewarm('orders');
    const first = pool.invoke('orders', bytes(1));
    await vi.waitFor(() => expect(pool.list()[0]?.state).toBe('busy'));
    const second = pool.invoke('orders', bytes(2));
    await new Promise((r) => setTimeout(r, 30));
    expect(backend.launches).toHaveLength(1); // still waiting, nothing launched
    gate.resolve();
    const [a, b] = await Promise.all([first, second]);
    expect([a.json, b.json]).toEqual([1, 2]);
    expect(b.coldStart).toBe(false);
    expect(b.instanceId).toBe(a.instanceId);
    expect(backend.launches).toHaveLength(1);
    expect(overlap.peak).toBe(1);
    expect(pool.stats().orders).toMatchObject({ coldStarts: 0, warmHits: 2, instances: 1 });
  });

  it('launches after the wait when no instance freed up, and never beyond maxConcurrency', async () => {
    const gate = deferred();
    const { backend, pool } = setup(
      { handler: () => held(gate.promise) },
      { scaleOutWaitMs: 150, maxConcurrency: 2 },
    );
    await pool.prewarm('orders');
    const first = pool.invoke('orders', bytes(1));
    const started = performance.now();
    const second = pool.invoke('orders', bytes(2));
    const third = pool.invoke('orders', bytes(3)); // waits for a place in the queue
    await vi.waitFor(() => expect(backend.launches).toHaveLength(2));
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    gate.resolve();
    const results = await Promise.all([first, second, third]);
    expect(results.map((r) => r.json)).toEqual([1, 2, 3]);
    expect(results[1]?.coldStart).toBe(true);
    expect(backend.launches).toHaveLength(2);
  });

  it('waits for an instance still being launched for another call', async () => {
    const { backend, pool } = setup({ launchDelayMs: 100 }, { scaleOutWaitMs: 60_000 });
    const results = await Promise.all([pool.invoke('orders', bytes(1)), pool.invoke('orders', bytes(2))]);
    expect(results.map((r) => r.coldStart)).toEqual([true, false]);
    expect(backend.launches).toHaveLength(1);
  });

  it("takes a function's own scaleOutWaitMs over the pool's", async () => {
    const gate = deferred();
    const { backend, pool } = setup({ handler: () => held(gate.promise) }, { scaleOutWaitMs: 60_000 }, [
      fn('eager', 'deploy-1', { scaleOutWaitMs: 0 }),
      fn('patient', 'deploy-1', { scaleOutWaitMs: 60_000 }),
    ]);
    await Promise.all([pool.prewarm('eager'), pool.prewarm('patient')]);
    const calls = ['eager', 'eager', 'patient', 'patient'].map((name, i) => pool.invoke(name, bytes(i)));
    await vi.waitFor(() => expect(backend.launches).toHaveLength(3)); // the eager second call launched
    await new Promise((r) => setTimeout(r, 30));
    expect(backend.launches.filter((l) => l.functionName === 'patient')).toHaveLength(1);
    gate.resolve();
    expect((await Promise.all(calls)).map((r) => r.coldStart)).toEqual([false, true, false, false]);
  });

  it('launches at once when the instance it waits for is retired instead of freed (evict)', async () => {
    const gate = deferred();
    const { backend, pool } = setup({ handler: () => held(gate.promise) }, { scaleOutWaitMs: 60_000 });
    await pool.prewarm('orders');
    const first = pool.invoke('orders', bytes(1));
    await vi.waitFor(() => expect(pool.list()[0]?.state).toBe('busy'));
    const second = pool.invoke('orders', bytes(2));
    await pool.evict('orders'); // the busy instance ends after its call: nothing can be handed over
    gate.resolve();
    const [a, b] = await Promise.all([first, second]);
    expect(b.coldStart).toBe(true);
    expect(b.instanceId).not.toBe(a.instanceId);
    expect(backend.launches).toHaveLength(2);
  });

  it('settles a waiting call with POOL_STOPPED when the pool stops', async () => {
    const { backend, pool } = setup(
      { handler: () => () => new Promise(() => {}) },
      { scaleOutWaitMs: 60_000 },
    );
    await pool.prewarm('orders');
    const first = rejectionOf(pool.invoke('orders', bytes(1)));
    const second = rejectionOf(pool.invoke('orders', bytes(2)));
    await vi.waitFor(() => expect(pool.list()[0]?.state).toBe('busy'));
    await pool.stopAll();
    expect((await first).code).toBe(ErrorCodes.POOL_STOPPED);
    expect((await second).code).toBe(ErrorCodes.POOL_STOPPED);
    expect(backend.launches).toHaveLength(1);
    expect(backend.running()).toEqual([]);
  });

  it('validates the option', () => {
    const backend = new FakeBackend();
    expect(() => new WarmPool({ backend, scaleOutWaitMs: -1 })).toThrow(/scaleOutWaitMs/);
    expect(() => new WarmPool({ backend, scaleOutWaitMs: Number.NaN })).toThrow(/scaleOutWaitMs/);
  });
});

describe('WarmPool deploy changes and retirement', () => {
  it('retires the old instance after its in-flight call and sends new calls to the new deploy', async () => {
    const gate = deferred();
    const { backend, pool } = setup({
      handler: (f) => async (r) => {
        if (f.deployId === 'deploy-1') await gate.promise;
        return { body: { deployId: f.deployId, event: r.event } };
      },
    });
    const oldCall = pool.invoke('orders', bytes('old'));
    await vi.waitFor(() => expect(pool.list()).toHaveLength(1));
    const oldId = pool.list()[0]!.instanceId;

    pool.register(fn('orders', 'deploy-2'));
    expect(pool.list()[0]).toMatchObject({ instanceId: oldId, state: 'retiring' });
    expect(backend.terminations).not.toContain(oldId); // still serving its call

    const newCall = await pool.invoke('orders', bytes('new'));
    expect(newCall.json).toEqual({ deployId: 'deploy-2', event: 'new' });
    expect(newCall.instanceId).not.toBe(oldId);

    gate.resolve();
    expect((await oldCall).json).toEqual({ deployId: 'deploy-1', event: 'old' });
    await vi.waitFor(() => expect(backend.terminations).toContain(oldId));
    expect(pool.list().map((i) => i.deployId)).toEqual(['deploy-2']);
    expect(pool.getFunction('orders')?.deployId).toBe('deploy-2');
  });

  it('does not keep an instance of the old deploy whose launch was under way during the change', async () => {
    const launchGate = deferred();
    const { backend, pool } = setup({
      handler: (f) => () => ({ body: { deployId: f.deployId } }),
    });
    // Hold the first launch until the deploy has changed (a watch-mode edit during a cold start).
    const launch = backend.launch.bind(backend);
    vi.spyOn(backend, 'launch').mockImplementationOnce(async (f, context) => {
      await launchGate.promise;
      return launch(f, context);
    });
    const oldCall = pool.invoke('orders', bytes('old'));
    await vi.waitFor(() => expect(backend.launch).toHaveBeenCalledTimes(1));
    pool.register(fn('orders', 'deploy-2'));
    launchGate.resolve();
    const old = await oldCall;
    // The call admitted before the change is served by what it launched ...
    expect(old.json).toEqual({ deployId: 'deploy-1' });
    // ... but that instance never serves again: the next call launches the new deploy.
    await vi.waitFor(() => expect(backend.terminations).toContain(old.instanceId));
    const next = await pool.invoke('orders', bytes('new'));
    expect(next.json).toEqual({ deployId: 'deploy-2' });
    expect(next.coldStart).toBe(true);
    expect(pool.list().map((i) => i.deployId)).toEqual(['deploy-2']);
  });

  it('terminates idle instances of the old deploy at once and keeps them on the same deploy', async () => {
    const { backend, pool } = setup();
    await pool.invoke('orders', bytes(1));
    pool.register(fn('orders', 'deploy-1')); // same deploy id: nothing happens
    expect(backend.terminations).toHaveLength(0);
    pool.register(fn('orders', 'deploy-2'));
    await vi.waitFor(() => expect(backend.terminations).toHaveLength(1));
    expect(pool.list()).toHaveLength(0);
  });

  it('terminates an instance after its idle TTL', async () => {
    const { backend, pool } = setup({}, { idleTtlMs: 30 });
    const first = await pool.invoke('orders', bytes(1));
    await vi.waitFor(() => expect(backend.terminations).toEqual([first.instanceId]));
    expect(pool.list()).toHaveLength(0);
    const second = await pool.invoke('orders', bytes(2));
    expect(second.coldStart).toBe(true);
  });

  it('keeps a busy instance past its TTL until the call ends', async () => {
    const { backend, pool } = setup({}, { idleTtlMs: 1_000 });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await pool.invoke('orders', bytes(1));
      vi.advanceTimersByTime(999);
      expect(pool.list()).toHaveLength(1);
      await pool.invoke('orders', bytes(2)); // a call resets the idle clock
      vi.advanceTimersByTime(999);
      expect(pool.list()).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(pool.list()).toHaveLength(0);
    } finally {
      vi.useRealTimers();
    }
    await vi.waitFor(() => expect(backend.terminations).toHaveLength(1));
  });

  it('evicts idle instances now and busy ones after their call', async () => {
    const gate = deferred();
    let hold = false;
    const { backend, pool } = setup({
      handler: () => async (r) => {
        if (hold) await gate.promise;
        return { body: r.body };
      },
    });
    await Promise.all([pool.invoke('orders', bytes(1)), pool.invoke('orders', bytes(2))]);
    hold = true;
    const busy = pool.invoke('orders', bytes(3));
    await vi.waitFor(() => expect(pool.list().filter((i) => i.state === 'busy')).toHaveLength(1));
    expect(await pool.evict('orders')).toBe(2);
    expect(backend.terminations).toHaveLength(1);
    gate.resolve();
    await busy;
    await vi.waitFor(() => expect(backend.terminations).toHaveLength(2));
    expect(backend.running()).toEqual([]);
  });

  it('unregisters a function: idle instances now, busy ones after their call, new calls refused', async () => {
    const gate = deferred();
    let hold = false;
    const { backend, pool } = setup(
      {
        handler: () => async (r) => {
          if (hold) await gate.promise;
          return { body: r.body };
        },
      },
      { maxConcurrency: 3 },
      [fn('orders'), fn('users')],
    );
    await Promise.all([pool.invoke('orders', bytes(1)), pool.invoke('orders', bytes(2))]);
    await pool.invoke('users', bytes(0));
    hold = true;
    const busy = pool.invoke('orders', bytes(3));
    await vi.waitFor(() => expect(pool.list().filter((i) => i.state === 'busy')).toHaveLength(1));

    expect(await pool.unregister('orders')).toBe(2);
    expect(pool.has('orders')).toBe(false);
    expect(pool.functionNames()).toEqual(['users']);
    expect(Object.keys(pool.stats())).toEqual(['users']);
    expect(backend.terminations).toHaveLength(1); // the idle one
    const refused = await rejectionOf(pool.invoke('orders', bytes(4)));
    expect(refused.code).toBe(ErrorCodes.UNKNOWN_FUNCTION);
    expect(refused.message).toMatch(/Known functions: users/);

    gate.resolve();
    expect((await busy).json).toBe(3); // the call under way finishes
    await vi.waitFor(() => expect(backend.terminations).toHaveLength(2));
    expect(pool.list().map((i) => i.functionName)).toEqual(['users']);
    expect(await pool.unregister('orders')).toBe(0);

    // Declared again later: a new function with fresh counters and a cold start.
    pool.register(fn('orders', 'deploy-2'));
    const again = await pool.invoke('orders', bytes(5));
    expect(again.coldStart).toBe(true);
    expect(pool.stats().orders).toMatchObject({ coldStarts: 1, invocations: 1 });
  });

  it('stopAll also ends an instance that a call admitted before unregister() launched', async () => {
    const gate = deferred();
    let calls = 0;
    // The first call waits for the gate; the second never answers, so its instance is busy at stop.
    const { backend, pool } = setup(
      { handler: () => async (r) => (++calls === 1 ? held(gate.promise)(r) : new Promise(() => {})) },
      { maxConcurrency: 1 },
    );
    const first = pool.invoke('orders', bytes(1));
    const second = rejectionOf(pool.invoke('orders', bytes(2))); // admitted, waiting for the first
    await vi.waitFor(() => expect(backend.launches).toHaveLength(1));
    const removing = pool.unregister('orders');
    gate.resolve();
    await Promise.all([first, removing]);
    // The first instance retired after its call; the waiting call launched one of its own.
    await vi.waitFor(() => expect(backend.launches).toHaveLength(2));
    await vi.waitFor(() => expect(backend.running()).toHaveLength(1));
    await pool.stopAll();
    expect(backend.running()).toEqual([]); // at once, not after the call's own timeout
    expect((await second).code).toBe(ErrorCodes.POOL_STOPPED);
  });

  it('prewarms one idle instance that the first call then uses warm', async () => {
    const { backend, pool } = setup();
    await pool.prewarm('orders');
    await pool.prewarm('orders');
    expect(backend.launches).toHaveLength(1);
    expect(pool.list()[0]?.state).toBe('idle');
    const result = await pool.invoke('orders', bytes(1));
    expect(result.coldStart).toBe(false);
    // Only the prewarm asks the backend to run the init ahead; a call's launch keeps the on-demand init.
    expect(backend.launches[0]?.initAhead).toBe(true);
    const { backend: onDemand, pool: plain } = setup();
    await plain.invoke('orders', bytes(1));
    expect(onDemand.launches).toHaveLength(1);
    expect(onDemand.launches[0]).not.toHaveProperty('initAhead');
  });
});

describe('WarmPool transport failures', () => {
  it('evicts a dead endpoint and retries once on a fresh instance', async () => {
    const { backend, pool } = setup();
    await pool.prewarm('orders');
    const dead = pool.list()[0]!.instanceId;
    await backend.kill(dead);
    const result = await pool.invoke('orders', bytes('after-death'));
    expect(result.kind).toBe('success');
    expect(result.json).toBe('after-death');
    expect(result.instanceId).not.toBe(dead);
    expect(result.coldStart).toBe(true);
    expect(backend.terminations).toContain(dead);
    expect(backend.launches).toHaveLength(2);
    expect(pool.stats().orders).toMatchObject({ retries: 1, instancesLost: 0 });
  });

  it('retries a connection refused after earlier calls on a kept-alive connection', async () => {
    const { backend, pool } = setup();
    const first = await pool.invoke('orders', bytes(1));
    await backend.kill(first.instanceId);
    // An instance that died *between* calls: its FIN reaches the client before the next call. (A
    // death in the very instant a call is written is indistinguishable from a mid-call failure and
    // is, conservatively, not retried: see the next tests.)
    await new Promise((r) => setTimeout(r, 50));
    const second = await pool.invoke('orders', bytes(2));
    expect(second.json).toBe(2);
    expect(second.instanceId).not.toBe(first.instanceId);
    expect(backend.instance(first.instanceId).calls).toBe(1);
  });

  it('retries only once', async () => {
    const { backend, pool } = setup();
    backend.deadOnArrival(2);
    const error = await rejectionOf(pool.invoke('orders', bytes(1)));
    expect(error).toBeInstanceOf(InvokeError);
    expect(error.code).toBe(ErrorCodes.INSTANCE_LOST);
    expect(error.details).toMatchObject({ requestWritten: false, retried: true });
    expect(backend.launchAttempts).toBe(2);
    expect(backend.terminations).toHaveLength(2);
  });

  it('does not retry a failure in the middle of the response', async () => {
    let calls = 0;
    const { backend, pool } = setup({
      handler: () => (): FakeRieReply =>
        ++calls === 1 ? { drop: 'mid-response', body: { big: 'x'.repeat(64) } } : { body: '1' },
    });
    const error = await rejectionOf(pool.invoke('orders', bytes(1)));
    expect(error.code).toBe(ErrorCodes.INSTANCE_LOST);
    expect(error.details).toMatchObject({ requestWritten: true, retried: false });
    expect(backend.launches).toHaveLength(1);
    expect(backend.instance(backend.launches[0]!.instanceId).calls).toBe(1); // the handler ran once
    expect(backend.terminations).toEqual([backend.launches[0]!.instanceId]);
    expect(pool.stats().orders).toMatchObject({ retries: 0, instancesLost: 1 });
    // The next call gets a fresh instance.
    expect((await pool.invoke('orders', bytes(2))).coldStart).toBe(true);
  });

  it('does not retry a connection cut after the request was sent', async () => {
    const { backend, pool } = setup();
    await pool.prewarm('orders');
    const id = pool.list()[0]!.instanceId;
    backend.instance(id).dropNextBeforeRead();
    const error = await rejectionOf(pool.invoke('orders', bytes(1)));
    expect(error.code).toBe(ErrorCodes.INSTANCE_LOST);
    expect(backend.launches).toHaveLength(1);
  });

  it('reports INVOKE_TIMEOUT when a warm instance does not answer within timeout + margin', async () => {
    const { backend, pool } = setup(
      { handler: () => (r) => (r.sequence === 1 ? { body: 'ok' } : new Promise(() => {})) },
      { invokeTimeoutMarginMs: 0 },
      [fn('orders', 'deploy-1', { timeout: 0.05 })],
    );
    expect((await pool.invoke('orders', bytes(1))).kind).toBe('success');
    const error = await rejectionOf(pool.invoke('orders', bytes(2)));
    expect(error.code).toBe(ErrorCodes.INVOKE_TIMEOUT);
    expect(backend.terminations).toHaveLength(1);
  });

  it("gives an instance's first call the init limit on top of timeout + margin (its runtime starts then)", async () => {
    const { pool } = setup(
      { handler: () => () => ({ body: 'ok', delayMs: 300 }) },
      { invokeTimeoutMarginMs: 0 },
      [fn('orders', 'deploy-1', { timeout: 0.05 })],
    );
    expect((await pool.invoke('orders', bytes(1))).kind).toBe('success');
  });
});

describe('WarmPool outcomes', () => {
  it('classifies handler errors and keeps the instance warm', async () => {
    const { backend, pool } = setup({
      handler: () => (r) =>
        r.sequence === 1
          ? { body: { errorType: 'Error', errorMessage: 'boom', trace: ['Error: boom'] } }
          : { body: 'ok' },
    });
    const failed = await pool.invoke('orders', bytes(1));
    expect(failed).toMatchObject({
      kind: 'handled',
      functionError: 'Unhandled',
      error: { errorMessage: 'boom' },
    });
    const next = await pool.invoke('orders', bytes(2));
    expect(next).toMatchObject({ kind: 'success', coldStart: false, instanceId: failed.instanceId });
    expect(backend.launches).toHaveLength(1);
    expect(pool.stats().orders).toMatchObject({ invocations: 2, errors: 1 });
  });

  it.each([
    ['timeout', { body: 'Task timed out after 3.00 seconds' }],
    ['exit', { status: 502, body: { errorType: 'Runtime.ExitError', errorMessage: 'exit status 1' } }],
    ['init', { status: 502, body: { errorType: 'Runtime.ImportModuleError', errorMessage: 'nope' } }],
  ] as const)('replaces the instance after a %s', async (kind, reply) => {
    const { backend, pool } = setup({ handler: () => (r) => (r.sequence === 1 ? reply : { body: 'ok' }) });
    const failed = await pool.invoke('orders', bytes(1));
    expect(failed.kind).toBe(kind);
    expect(failed.functionError).toBe('Unhandled');
    await vi.waitFor(() => expect(backend.terminations).toEqual([failed.instanceId]));
    expect((await pool.invoke('orders', bytes(2))).coldStart).toBe(true);
  });

  it('builds the timeout document with the request id from the START line', async () => {
    const { pool } = setup({ handler: () => () => ({ body: 'Task timed out after 3.00 seconds' }) });
    const result = await pool.invoke('orders', bytes(1));
    expect(result.json).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${result.requestId} Error: Task timed out after 3.00 seconds`,
    });
    expect(result.logs[0]).toBe(`START RequestId: ${result.requestId} Version: $LATEST`);
  });

  it("cuts the invocation's log lines and passes the client context through", async () => {
    const { pool } = setup({ handler: () => (r) => ({ body: { context: r.clientContext } }) });
    const result = await pool.invoke('orders', bytes({}), { clientContext: 'eyJjdXN0b20iOnt9fQ==' });
    expect(result.json).toEqual({ context: 'eyJjdXN0b20iOnt9fQ==' });
    expect(result.logs).toHaveLength(3);
    expect(result.logs[1]).toBe(`END RequestId: ${result.requestId}`);
    expect(result.logs[2]).toMatch(new RegExp(`^REPORT RequestId: ${result.requestId}\\t`));
  });

  it("forwards the caller's well-formed trace header, and gives every other call a new one", async () => {
    const { pool } = setup({ handler: () => (r) => ({ body: { traceId: r.traceId } }) });
    const caller = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    const kept = await pool.invoke('orders', bytes({}), { traceId: caller });
    expect(kept.json).toEqual({ traceId: caller });
    expect(kept.traceId).toBe(caller);
    const wellFormed = /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/;
    const fresh = await pool.invoke('orders', bytes({}));
    const again = await pool.invoke('orders', bytes({}));
    const malformed = await pool.invoke('orders', bytes({}), { traceId: 'Root=nonsense' });
    for (const result of [fresh, again, malformed]) {
      expect(result.traceId).toMatch(wellFormed);
      expect(result.json).toEqual({ traceId: result.traceId });
    }
    expect(new Set([fresh.traceId, again.traceId, malformed.traceId]).size).toBe(3);
    // The root's first part is the call's time in epoch seconds, as X-Ray expects.
    const seconds = Number.parseInt(fresh.traceId.slice(7, 15), 16);
    expect(Math.abs(seconds - Date.now() / 1000)).toBeLessThan(60);
  });

  it('generates a request id when the backend gives no logs', async () => {
    const { pool } = setup({ logs: false });
    const result = await pool.invoke('orders', bytes(1));
    expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.logs).toEqual([]);
  });

  it('reports an RIE fault status as PROTOCOL_ERROR and replaces the instance', async () => {
    const { backend, pool } = setup({ handler: () => () => ({ status: 500, body: '' }) });
    const error = await rejectionOf(pool.invoke('orders', bytes(1)));
    expect(error.code).toBe(ErrorCodes.PROTOCOL_ERROR);
    await vi.waitFor(() => expect(backend.terminations).toHaveLength(1));
  });

  it('counts failed calls as invocations, so starts and invocations add up', async () => {
    let calls = 0;
    const { pool } = setup({
      handler: () => (): FakeRieReply => {
        calls++;
        if (calls === 2) return { status: 500, body: '' };
        if (calls === 3) return { drop: 'mid-response', body: { big: 'x'.repeat(64) } };
        return { body: '1' };
      },
    });
    await pool.invoke('orders', bytes(1));
    expect((await rejectionOf(pool.invoke('orders', bytes(2)))).code).toBe(ErrorCodes.PROTOCOL_ERROR);
    expect((await rejectionOf(pool.invoke('orders', bytes(3)))).code).toBe(ErrorCodes.INSTANCE_LOST);
    await pool.invoke('orders', bytes(4));
    const stats = pool.stats().orders!;
    expect(stats).toMatchObject({ invocations: 4, instancesLost: 1, retries: 0 });
    expect(stats.coldStarts + stats.warmHits).toBe(stats.invocations + stats.retries);
  });
});

describe('WarmPool errors and lifecycle', () => {
  it('rejects an unknown function with the known names', async () => {
    const { pool } = setup({}, {}, [fn('orders'), fn('payments')]);
    const error = await rejectionOf(pool.invoke('order', bytes(1)));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe(ErrorCodes.UNKNOWN_FUNCTION);
    expect(error.message).toContain('orders, payments');
    expect(pool.has('orders')).toBe(true);
    expect(pool.functionNames()).toEqual(['orders', 'payments']);
  });

  it('reports a launch failure with its cause and does not strand the waiters', async () => {
    const events: string[] = [];
    const { backend, pool } = setup(
      { launchDelayMs: 5 },
      { maxConcurrency: 1, onLaunch: (e) => events.push(e.error ? 'failed' : 'ok') },
    );
    backend.failNextLaunches(1);
    const calls = [1, 2, 3].map((i) =>
      pool.invoke('orders', bytes(i)).then(
        (r) => r.json,
        (e: unknown) => e,
      ),
    );
    const [first, second, third] = await Promise.all(calls);
    expect(first).toBeInstanceOf(BackendError);
    expect((first as BackendError).code).toBe(ErrorCodes.LAUNCH_FAILED);
    expect((first as BackendError).message).toContain('fake launch failure');
    expect((first as BackendError).cause).toBeInstanceOf(Error);
    expect([second, third]).toEqual([2, 3]);
    expect(pool.stats().orders).toMatchObject({ launchFailures: 1, launches: 1 });
    expect(events).toEqual(['failed', 'ok']);
  });

  it('settles running, launching and waiting calls with POOL_STOPPED and leaves nothing running', async () => {
    const { backend, pool } = setup({ handler: () => () => new Promise(() => {}) }, { maxConcurrency: 3 });
    const calls = Array.from({ length: 8 }, (_, i) => rejectionOf(pool.invoke('orders', bytes(i))));
    await vi.waitFor(() => expect(backend.launches).toHaveLength(3));
    await vi.waitFor(() =>
      expect(backend.running().map((id) => backend.instance(id).inFlight)).toEqual([1, 1, 1]),
    );
    backend.launchDelayMs = 50;
    // One more function whose launch is under way when the pool stops.
    pool.register(fn('slow'));
    const launching = rejectionOf(pool.invoke('slow', bytes(0)));
    await vi.waitFor(() => expect(backend.launchAttempts).toBe(4));

    const stopping = pool.stopAll();
    expect(pool.stopAll()).toBe(stopping);
    await stopping;
    const errors = await Promise.all([...calls, launching]);
    for (const error of errors) {
      expect(error).toBeInstanceOf(InvokeError);
      expect(error.code).toBe(ErrorCodes.POOL_STOPPED);
    }
    expect(new Set(errors).size).toBe(errors.length); // each call has its own error
    expect(backend.running()).toEqual([]);
    expect(new Set(backend.terminations)).toEqual(new Set(backend.launches.map((l) => l.instanceId)));
    expect(pool.list()).toEqual([]);
    expect((await rejectionOf(pool.invoke('orders', bytes(1)))).code).toBe(ErrorCodes.POOL_STOPPED);
    await pool.stopAll();
  });

  it('lets a caller abort its wait for an instance', async () => {
    const gate = deferred();
    const { pool } = setup({ handler: () => held(gate.promise) }, { maxConcurrency: 1 });
    const running = pool.invoke('orders', bytes(1));
    const controller = new AbortController();
    const waiting = pool.invoke('orders', bytes(2), { signal: controller.signal });
    controller.abort(new Error('test gave up'));
    await expect(waiting).rejects.toThrow('test gave up');
    gate.resolve();
    expect((await running).json).toBe(1);
  });

  it('ignores an abort once the call is running (the slot stays taken)', async () => {
    const gate = deferred();
    const { backend, pool } = setup({ handler: () => held(gate.promise) }, { maxConcurrency: 1 });
    const controller = new AbortController();
    const running = pool.invoke('orders', bytes(1), { signal: controller.signal });
    await vi.waitFor(() => expect(pool.list()[0]?.state).toBe('busy'));
    controller.abort();
    const next = pool.invoke('orders', bytes(2));
    await new Promise((r) => setTimeout(r, 20));
    expect(backend.launches).toHaveLength(1); // the second call did not get a slot of its own
    gate.resolve();
    expect((await running).json).toBe(1);
    expect((await next).json).toBe(2);
  });

  it('disposes with await using', async () => {
    const backend = new FakeBackend();
    {
      await using pool = new WarmPool({ backend });
      pool.register(fn());
      await pool.invoke('orders', bytes(1));
    }
    expect(backend.running()).toEqual([]);
  });

  it('validates its options', () => {
    const backend = new FakeBackend();
    expect(() => new WarmPool({ backend, maxConcurrency: 0 })).toThrow(/maxConcurrency/);
    expect(() => new WarmPool({ backend, idleTtlMs: 0 })).toThrow(/idleTtlMs/);
    expect(() => new WarmPool({ backend, spareInstances: -1 })).toThrow(/spareInstances/);
  });
});

/**
 * A FakeBackend that can prepare instances ahead (as the Docker backend creates containers without
 * starting them): `prepareInstance` only records; `startPrepared` launches with the prepared context.
 */
class PreparingBackend extends FakeBackend {
  readonly prepared: Array<{ fn: ResolvedFunction; context: LaunchContext }> = [];
  readonly started: string[] = [];
  readonly #contexts = new Map<string, { fn: ResolvedFunction; context: LaunchContext }>();

  async prepareInstance(fn: ResolvedFunction, context: LaunchContext): Promise<FakeHandle> {
    this.prepared.push({ fn, context });
    this.#contexts.set(context.instanceId, { fn, context });
    return { instanceId: context.instanceId, functionName: fn.name, deployId: fn.deployId };
  }

  async startPrepared(handle: FakeHandle): Promise<LaunchedInstance<FakeHandle>> {
    const entry = this.#contexts.get(handle.instanceId);
    if (!entry) throw new Error(`never prepared: ${handle.instanceId}`);
    this.started.push(handle.instanceId);
    return this.launch(entry.fn, entry.context);
  }
}

describe('WarmPool spare instances (spareInstances)', () => {
  function spares(options: Partial<WarmPoolOptions> = {}, handler?: FakeBackendOptions['handler']) {
    const backend = new PreparingBackend(handler ? { handler } : {});
    const pool = new WarmPool({ backend, logWaitMs: 200, spareInstances: 1, ...options });
    pools.push(pool);
    pool.register(fn());
    return { backend, pool };
  }

  it('prepares a spare after the first launch, and a scale-out starts it as a cold start', async () => {
    const gate = deferred();
    const { backend, pool } = spares(
      { launchEnvironment: (_f, instanceId) => ({ INSTANCE: instanceId }) },
      () => held(gate.promise),
    );
    const first = pool.invoke('orders', bytes(1));
    await vi.waitFor(() => expect(pool.stats().orders?.spares).toBe(1));
    const spareId = backend.prepared[0]?.context.instanceId;
    // The spare got its own instance id and the environment made for that id.
    expect(backend.prepared[0]?.context.environment).toEqual({ INSTANCE: spareId });
    const second = pool.invoke('orders', bytes(2));
    await vi.waitFor(() => expect(backend.started).toEqual([spareId]));
    gate.resolve();
    const results = await Promise.all([first, second]);
    expect(results.map((r) => r.coldStart)).toEqual([true, true]);
    expect(results[1]?.instanceId).toBe(spareId);
    expect(pool.stats().orders).toMatchObject({ coldStarts: 2, launches: 2 });
    // Starting the spare prepared the next one.
    await vi.waitFor(() => expect(backend.prepared).toHaveLength(2));
  });

  it('prewarm launches afresh with the init ahead instead of starting a spare (made without it)', async () => {
    const gate = deferred();
    const { backend, pool } = spares({}, () => held(gate.promise));
    const busy = pool.invoke('orders', bytes(1));
    await vi.waitFor(() => expect(pool.stats().orders?.spares).toBe(1));
    // The only instance is busy: the prewarm launches one, and leaves the spare prepared.
    await pool.prewarm('orders');
    expect(backend.started).toEqual([]);
    expect(backend.launches).toHaveLength(2);
    expect(backend.launches[1]?.initAhead).toBe(true);
    expect(pool.stats().orders?.spares).toBe(1);
    gate.resolve();
    await busy;
  });

  it('prewarm launches one instance and prepares the spares behind it', async () => {
    const { backend, pool } = spares({ spareInstances: 2 });
    await pool.prewarm('orders');
    await vi.waitFor(() => expect(pool.stats().orders?.spares).toBe(2));
    expect(backend.prepared).toHaveLength(2);
    expect(backend.launches).toHaveLength(1);
    expect(backend.started).toEqual([]);
  });

  it('a new deploy id drops the spares of the old one (removed, never started)', async () => {
    const gate = deferred();
    const { backend, pool } = spares({}, () => held(gate.promise));
    gate.resolve();
    await pool.invoke('orders', bytes(1));
    await vi.waitFor(() => expect(backend.prepared).toHaveLength(1));
    const stale = backend.prepared[0]?.context.instanceId ?? '';
    pool.register(fn('orders', 'deploy-2'));
    await vi.waitFor(() => expect(backend.terminations).toContain(stale));
    await pool.invoke('orders', bytes(2));
    expect(backend.started).not.toContain(stale);
    expect(backend.launches.at(-1)?.deployId).toBe('deploy-2');
  });

  it('stopAll removes the spares too, and spareInstances 0 prepares nothing', async () => {
    const { backend, pool } = spares();
    await pool.invoke('orders', bytes(1));
    await vi.waitFor(() => expect(backend.prepared).toHaveLength(1));
    await pool.stopAll();
    expect(backend.terminations).toContain(backend.prepared[0]?.context.instanceId);

    const none = spares({ spareInstances: 0 });
    await none.pool.invoke('orders', bytes(1));
    await none.pool.prewarm('orders');
    expect(none.backend.prepared).toEqual([]);
  });

  it('a spare taken by a scale-out that never started (the pool stopped first) is removed', async () => {
    const gate = deferred();
    const backend = new PreparingBackend({ handler: () => held(gate.promise) });
    const pool = new WarmPool({ backend, logWaitMs: 200, spareInstances: 1, maxConcurrentLaunches: 1 });
    pools.push(pool);
    pool.register(fn('orders'));
    pool.register(fn('slow', 'deploy-slow'));
    const first = pool.invoke('orders', bytes(1));
    await vi.waitFor(() => expect(pool.stats().orders?.spares).toBe(1));
    const spareId = backend.prepared[0]?.context.instanceId ?? '';
    // A slow launch of another function holds the only launch place; the scale-out waits behind it.
    backend.launchDelayMs = 300;
    const slow = pool.invoke('slow', bytes(0));
    await vi.waitFor(() => expect(backend.launchAttempts).toBe(2));
    const scaleOut = pool.invoke('orders', bytes(2));
    const settled = Promise.allSettled([first, slow, scaleOut]);
    await new Promise((r) => setTimeout(r, 20));
    gate.resolve();
    await pool.stopAll();
    expect((await settled)[2]).toMatchObject({
      status: 'rejected',
      reason: { code: ErrorCodes.POOL_STOPPED },
    });
    expect(backend.started).toEqual([]);
    expect(backend.terminations).toContain(spareId);
  });

  it('a scale-out does not wait for a spare still being prepared: it launches', async () => {
    const gate = deferred();
    const preparing = deferred();
    const { backend, pool } = spares({}, () => held(gate.promise));
    const prepare = backend.prepareInstance.bind(backend);
    vi.spyOn(backend, 'prepareInstance').mockImplementation(async (...args) => {
      await preparing.promise;
      return prepare(...args);
    });
    const first = pool.invoke('orders', bytes(1));
    await vi.waitFor(() => expect(backend.prepareInstance).toHaveBeenCalledTimes(1));
    const second = pool.invoke('orders', bytes(2));
    await vi.waitFor(() => expect(backend.launches).toHaveLength(2));
    gate.resolve();
    preparing.resolve();
    await Promise.all([first, second]);
    expect(backend.started).toEqual([]);
    await vi.waitFor(() => expect(pool.stats().orders?.spares).toBe(1));
  });

  it('a spare whose preparation failed leaves the scale-out to a plain launch', async () => {
    const gate = deferred();
    const { backend, pool } = spares({}, () => held(gate.promise));
    vi.spyOn(backend, 'prepareInstance').mockRejectedValueOnce(new Error('engine hiccup'));
    const first = pool.invoke('orders', bytes(1));
    await vi.waitFor(() => expect(backend.launches).toHaveLength(1));
    const second = pool.invoke('orders', bytes(2));
    gate.resolve();
    expect((await second).coldStart).toBe(true);
    await first;
    expect(backend.started).toEqual([]);
    expect(backend.launches).toHaveLength(2);
  });
});

describe('WarmPool.invokeStream on an instance that cannot stream (AWS RIE: no streaming route)', () => {
  const collect = async (body: AsyncIterable<Buffer>) => {
    const parts: Buffer[] = [];
    for await (const part of body) parts.push(part);
    return parts;
  };

  it('runs the call buffered and yields the whole answer as one chunk, then skips the probe', async () => {
    const seen: number[] = [];
    const { pool } = setup({
      handler: () => (request) => {
        seen.push(request.sequence);
        return { body: request.body };
      },
    });
    const first = await pool.invokeStream('orders', bytes({ n: 1 }));
    expect(first.contentType).toBe('application/json');
    expect((await collect(first.body)).map(String)).toEqual(['{"n":1}']);
    const outcome = await first.outcome;
    expect(outcome).toMatchObject({ kind: 'success', coldStart: true, size: 7 });
    expect(outcome.requestId).toBe(first.requestId);

    const second = await pool.invokeStream('orders', bytes({ n: 2 }));
    expect((await collect(second.body)).map(String)).toEqual(['{"n":2}']);
    expect(await second.outcome).toMatchObject({ kind: 'success', coldStart: false });
    // The 404 probe ran no handler: the handler saw exactly the two calls.
    expect(seen).toEqual([1, 2]);
    expect(pool.stats().orders).toMatchObject({ invocations: 2, coldStarts: 1, warmHits: 1 });
  });

  it('reports a function error in the outcome, with no body bytes', async () => {
    const { pool } = setup({
      handler: () => () => ({ body: { errorType: 'RangeError', errorMessage: 'nope' } }),
    });
    const started = await pool.invokeStream('orders', bytes({}));
    expect(await collect(started.body)).toEqual([]);
    expect(await started.outcome).toMatchObject({
      kind: 'handled',
      functionError: 'Unhandled',
      error: { errorType: 'RangeError', errorMessage: 'nope' },
      size: 0,
    });
  });

  it('rejects an unknown function as invoke does', async () => {
    const { pool } = setup();
    await expect(pool.invokeStream('nope', bytes({}))).rejects.toMatchObject({
      code: ErrorCodes.UNKNOWN_FUNCTION,
    });
  });
});
