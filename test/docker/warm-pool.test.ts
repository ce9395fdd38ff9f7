/**
 * The WarmPool on the DockerBackend, against the real engine and the local image: warm reuse,
 * environment, layers, logs, deploy changes, runtime crashes and timeouts, a killed container,
 * and a concurrent burst.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DockerBackend, type DockerInstance, InvokeError, WarmPool } from '@lambda-testkit/core';
import { ContainerLabels } from '@lambda-testkit/core/internal';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  appFunction,
  containerExists,
  docker,
  fixturesDir,
  json,
  requireDocker,
  waitFor,
} from './helpers.ts';

let backend: DockerBackend;
let pool: WarmPool;

// Every test fails (loudly, with the reason) when the global setup found no engine.
beforeEach(() => requireDocker());

beforeAll(() => {
  backend = new DockerBackend({ log: () => {} });
});

afterEach(async () => {
  await pool?.stopAll();
  expect(backend.instances()).toEqual([]);
});

afterAll(async () => {
  await backend.close();
});

function newPool(maxConcurrency = 10) {
  // A run id of its own: several runs of this suite may share one engine.
  pool = new WarmPool({ backend, maxConcurrency, idleTtlMs: Number.POSITIVE_INFINITY, runId: randomUUID() });
  return pool;
}

function onlyContainer(): DockerInstance {
  const instances = backend.instances();
  expect(instances).toHaveLength(1);
  return instances[0] as DockerInstance;
}

describe('WarmPool on DockerBackend', () => {
  it('cold-starts a container, then serves the next call warm from the same container', async () => {
    const p = newPool();
    p.register(await appFunction());
    const first = await p.invoke('app', json({ n: 1 }));
    const containerId = onlyContainer().containerId;
    const second = await p.invoke('app', json({ n: 2 }));
    expect(first).toMatchObject({
      kind: 'success',
      coldStart: true,
      json: { echo: { n: 1 }, invocations: 1 },
    });
    // Module state survived: the same runtime process in the same container answered.
    expect(second).toMatchObject({
      kind: 'success',
      coldStart: false,
      json: { echo: { n: 2 }, invocations: 2 },
    });
    expect(second.instanceId).toBe(first.instanceId);
    expect(onlyContainer().containerId).toBe(containerId);
    expect(p.stats().app).toMatchObject({ coldStarts: 1, warmHits: 1, launches: 1 });
  });

  it('gives the handler the sandbox environment, its own variables, NODE_PATH and a writable /tmp', async () => {
    const p = newPool();
    p.register(await appFunction({ environment: { CUSTOM_VAR: 'custom-value' } }));
    const out = await p.invoke('app', json({ action: 'env' }));
    expect(out.json).toEqual({
      functionName: 'app',
      region: 'us-east-1',
      custom: 'custom-value',
      taskRoot: '/var/task',
      // The local image runs the Node that built it (this process's), and sets NODE_PATH for it as
      // the base image of that Node major does.
      nodePath: `/opt/nodejs/node${process.versions.node.split('.')[0]}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`,
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      cwd: '/var/task',
    });
    expect((await p.invoke('app', json({ action: 'tmp' }))).json).toEqual({ tmp: 'ok' });
  });

  it('finds a module of a layer under /opt/nodejs/node_modules; a later layer overwrites an earlier one', async () => {
    const p = newPool();
    p.register(await appFunction({ layers: [join(fixturesDir, 'layer-greeting')] }));
    expect((await p.invoke('app', json({ action: 'layer', name: 'ada' }))).json).toBe(
      'hello ada from layer one',
    );
    p.register(
      await appFunction({
        layers: [join(fixturesDir, 'layer-greeting'), join(fixturesDir, 'layer-override')],
      }),
    );
    expect((await p.invoke('app', json({ action: 'layer', name: 'ada' }))).json).toBe(
      'hello ada from layer two',
    );
  });

  it("returns each invocation's log lines, START to REPORT, with the request id", async () => {
    const p = newPool();
    p.register(await appFunction());
    for (const marker of ['first', 'second']) {
      const out = await p.invoke('app', json({ action: 'log', marker }));
      // The first call is a cold start: INIT_START comes before START.
      expect(out.logs[marker === 'first' ? 1 : 0]).toMatch(new RegExp(`^START RequestId: ${out.requestId} `));
      if (marker === 'first') expect(out.logs[0]).toMatch(/^INIT_START Runtime Version: /);
      expect(out.logs.at(-1)).toMatch(new RegExp(`^REPORT RequestId: ${out.requestId}\\t`));
      expect(out.logs.some((l) => l.includes(`log line for ${marker}`))).toBe(true);
      expect(out.logs.join('\n')).not.toContain(marker === 'first' ? 'second' : 'log line for first');
    }
  });

  it('a deploy change starts a new container and removes the old one', async () => {
    const p = newPool();
    p.register(await appFunction({ environment: { CUSTOM_VAR: 'v1' } }));
    expect((await p.invoke('app', json({ action: 'env' }))).json).toMatchObject({ custom: 'v1' });
    const old = onlyContainer().containerId;
    p.register(await appFunction({ environment: { CUSTOM_VAR: 'v2' } }));
    const out = await p.invoke('app', json({ action: 'env' }));
    expect(out).toMatchObject({ coldStart: true, json: { custom: 'v2' } });
    await waitFor(async () => !(await containerExists(old)), 15_000, `old container ${old} to be removed`);
    expect(onlyContainer().containerId).not.toBe(old);
  });

  it('a timeout recycles the runtime and the next call succeeds', async () => {
    const p = newPool();
    p.register(await appFunction({ timeout: 1 }));
    const timedOut = await p.invoke('app', json({ action: 'sleep', ms: 3000 }));
    expect(timedOut).toMatchObject({ kind: 'timeout', functionError: 'Unhandled' });
    expect(await p.invoke('app', json({ n: 'after-timeout' }))).toMatchObject({
      kind: 'success',
      json: { echo: { n: 'after-timeout' }, invocations: 1 },
    });
  });

  it('process.exit(1) in the handler recycles the runtime and the next call succeeds', async () => {
    const p = newPool();
    p.register(await appFunction());
    const crashed = await p.invoke('app', json({ action: 'exit' }));
    expect(crashed).toMatchObject({ kind: 'exit', functionError: 'Unhandled' });
    expect(crashed.error?.errorType).toBe('Runtime.ExitError');
    expect(await p.invoke('app', json({ n: 'after-exit' }))).toMatchObject({
      kind: 'success',
      json: { echo: { n: 'after-exit' } },
    });
  });

  it('docker kill of a container mid-call: that call fails, the next call succeeds on a new container', async () => {
    const p = newPool();
    p.register(await appFunction());
    await p.invoke('app', json({ n: 'warm-up' }));
    const victim = onlyContainer().containerId;
    const inFlight = p.invoke('app', json({ action: 'sleep', ms: 5000 })).then(
      (outcome) => ({ outcome }),
      (error: unknown) => ({ error }),
    );
    await waitFor(() => p.list().some((i) => i.state === 'busy'), 5_000, 'the call to be in flight');
    await new Promise((r) => setTimeout(r, 300));
    await (await docker()).getContainer(victim).kill();
    const result = await inFlight;
    if ('error' in result) expect(result.error).toBeInstanceOf(InvokeError);
    else expect(result.outcome.kind).not.toBe('success');
    const next = await p.invoke('app', json({ n: 'after-kill' }));
    expect(next).toMatchObject({ kind: 'success', json: { echo: { n: 'after-kill' } } });
    expect(onlyContainer().containerId).not.toBe(victim);
    await waitFor(async () => !(await containerExists(victim)), 15_000, 'the killed container to be removed');
  });

  it('a 20-way concurrent burst: no failure and at most maxConcurrency containers', async () => {
    const maxConcurrency = 3;
    const p = newPool(maxConcurrency);
    p.register(await appFunction());
    let peakContainers = 0;
    const sampler = setInterval(() => {
      peakContainers = Math.max(peakContainers, backend.instances().length);
    }, 20);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => p.invoke('app', json({ action: 'sleep', ms: 150, i }))),
    ).finally(() => clearInterval(sampler));
    expect(outcomes.map((o) => o.kind)).toEqual(Array(20).fill('success'));
    const instances = new Set(outcomes.map((o) => o.instanceId));
    expect(instances.size).toBeGreaterThan(0);
    expect(instances.size).toBeLessThanOrEqual(maxConcurrency);
    expect(peakContainers).toBeLessThanOrEqual(maxConcurrency);
    expect(p.stats().app?.launches).toBeLessThanOrEqual(maxConcurrency);
    const labelled = await (await docker()).listContainers({
      filters: { label: [`${ContainerLabels.runId}=${p.runId}`] },
    });
    expect(labelled.length).toBeLessThanOrEqual(maxConcurrency);
  });
});

describe('WarmPool on DockerBackend with spareInstances (prepared containers)', () => {
  /** The run's containers by state: `created` (prepared) or `running`. */
  async function containersOf(runId: string) {
    const found = await (await docker()).listContainers({
      all: true,
      filters: { label: [`${ContainerLabels.runId}=${runId}`] },
    });
    return found.map((c) => ({ id: c.Id, state: c.State, instanceId: c.Labels[ContainerLabels.instanceId] }));
  }

  it('a scale-out starts the prepared container: a cold start with its own instance id', async () => {
    pool = new WarmPool({
      backend,
      spareInstances: 1,
      idleTtlMs: Number.POSITIVE_INFINITY,
      runId: randomUUID(),
    });
    pool.register(await appFunction());
    const first = await pool.invoke('app', json({ n: 1 }));
    await waitFor(() => pool.stats().app?.spares === 1, 15_000, 'a spare');
    const spare = (await containersOf(pool.runId)).find((c) => c.state === 'created');
    // Hold the warm instance, so the next call finds every instance busy.
    const hold = pool.invoke('app', json({ action: 'sleep', ms: 1500 }));
    await waitFor(() => pool.list().some((i) => i.state === 'busy'), 5_000, 'the hold call');
    const scaled = await pool.invoke('app', json({ n: 2 }));
    await hold;
    expect(first.coldStart).toBe(true);
    expect(scaled).toMatchObject({
      kind: 'success',
      coldStart: true,
      json: { echo: { n: 2 }, invocations: 1 },
    });
    expect(scaled.instanceId).toBe(spare?.instanceId);
    // Its start prepared the next spare.
    await waitFor(
      async () => (await containersOf(pool.runId)).filter((c) => c.state === 'created').length === 1,
      15_000,
      'the next spare',
    );
    await pool.stopAll();
    expect(await containersOf(pool.runId)).toEqual([]);
  });

  it('a new deploy id removes the spare of the old one, never started', async () => {
    pool = new WarmPool({
      backend,
      spareInstances: 1,
      idleTtlMs: Number.POSITIVE_INFINITY,
      runId: randomUUID(),
    });
    pool.register(await appFunction({ environment: { V: '1' } }));
    await pool.invoke('app', json({ n: 1 }));
    await waitFor(
      async () => (await containersOf(pool.runId)).some((c) => c.state === 'created'),
      15_000,
      'a spare',
    );
    const stale = (await containersOf(pool.runId)).find((c) => c.state === 'created');
    pool.register(await appFunction({ environment: { V: '2' } }));
    await waitFor(async () => !(await containerExists(stale?.id ?? '')), 10_000, 'the stale spare removed');
    const next = await pool.invoke('app', json({ n: 2 }));
    expect(next.coldStart).toBe(true);
    expect(next.instanceId).not.toBe(stale?.instanceId);
  });
});
