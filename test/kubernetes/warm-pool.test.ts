/**
 * The WarmPool on the KubernetesBackend, on a real cluster: the contract the Docker backend passes
 * (warm reuse, environment, layers, logs, deploy changes, timeouts and exits, a Pod deleted mid-call,
 * a concurrent burst) and the out-of-memory end of a handler that outgrows memorySize.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  InvokeError,
  type KubernetesBackend,
  type KubernetesInstance,
  KubernetesLabels,
  WarmPool,
} from '@lambda-testkit/core/internal';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  appFunction,
  client,
  clusterMissing,
  dockerFixturesDir,
  fixturesDir,
  json,
  namespace,
  newBackend,
  podExists,
  requireCluster,
  waitFor,
} from './helpers.ts';

let backend: KubernetesBackend;
let pool: WarmPool | undefined;

beforeEach(() => requireCluster());

beforeAll(() => {
  if (clusterMissing()) return;
  backend = newBackend();
});

afterEach(async () => {
  await pool?.stopAll();
  pool = undefined;
  if (backend) expect(backend.instances()).toEqual([]);
});

afterAll(async () => {
  await backend?.close();
});

function newPool(maxConcurrency = 10) {
  pool = new WarmPool({ backend, maxConcurrency, idleTtlMs: Number.POSITIVE_INFINITY, runId: randomUUID() });
  return pool;
}

function onlyPod(): KubernetesInstance {
  const instances = backend.instances();
  expect(instances).toHaveLength(1);
  return instances[0] as KubernetesInstance;
}

describe('WarmPool on KubernetesBackend', () => {
  it('cold-starts a Pod, then serves the next call warm from the same Pod', async () => {
    const p = newPool();
    p.register(await appFunction());
    const first = await p.invoke('app', json({ n: 1 }));
    const podName = onlyPod().podName;
    const second = await p.invoke('app', json({ n: 2 }));
    expect(first).toMatchObject({
      kind: 'success',
      coldStart: true,
      json: { echo: { n: 1 }, invocations: 1 },
    });
    expect(second).toMatchObject({
      kind: 'success',
      coldStart: false,
      json: { echo: { n: 2 }, invocations: 2 },
    });
    expect(second.instanceId).toBe(first.instanceId);
    expect(onlyPod().podName).toBe(podName);
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
      nodePath: `/opt/nodejs/node${process.versions.node.split('.')[0]}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`,
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      cwd: '/var/task',
    });
    expect((await p.invoke('app', json({ action: 'tmp' }))).json).toEqual({ tmp: 'ok' });
  });

  it('finds a module of a layer under /opt/nodejs/node_modules; a later layer overwrites an earlier one', async () => {
    const p = newPool();
    p.register(await appFunction({ layers: [join(dockerFixturesDir, 'layer-greeting')] }));
    expect((await p.invoke('app', json({ action: 'layer', name: 'ada' }))).json).toBe(
      'hello ada from layer one',
    );
    p.register(
      await appFunction({
        layers: [join(dockerFixturesDir, 'layer-greeting'), join(dockerFixturesDir, 'layer-override')],
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
    }
  });

  it('a deploy change starts a new Pod and deletes the old one', async () => {
    const p = newPool();
    p.register(await appFunction({ environment: { CUSTOM_VAR: 'v1' } }));
    expect((await p.invoke('app', json({ action: 'env' }))).json).toMatchObject({ custom: 'v1' });
    const old = onlyPod().podName;
    p.register(await appFunction({ environment: { CUSTOM_VAR: 'v2' } }));
    const out = await p.invoke('app', json({ action: 'env' }));
    expect(out).toMatchObject({ coldStart: true, json: { custom: 'v2' } });
    await waitFor(async () => !(await podExists(old)), 60_000, `old Pod ${old} to be deleted`);
    expect(onlyPod().podName).not.toBe(old);
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

  it('a Pod deleted mid-call: that call fails, the next call succeeds on a new Pod', async () => {
    const p = newPool();
    p.register(await appFunction());
    await p.invoke('app', json({ n: 'warm-up' }));
    const victim = onlyPod().podName;
    const inFlight = p.invoke('app', json({ action: 'sleep', ms: 5000 })).then(
      (outcome) => ({ outcome }),
      (error: unknown) => ({ error }),
    );
    await waitFor(() => p.list().some((i) => i.state === 'busy'), 5_000, 'the call to be in flight');
    await new Promise((r) => setTimeout(r, 300));
    await client().core.deleteNamespacedPod({ name: victim, namespace: namespace(), gracePeriodSeconds: 0 });
    const result = await inFlight;
    if ('error' in result) expect(result.error).toBeInstanceOf(InvokeError);
    else expect(result.outcome.kind).not.toBe('success');
    const next = await p.invoke('app', json({ n: 'after-delete' }));
    expect(next).toMatchObject({ kind: 'success', json: { echo: { n: 'after-delete' } } });
    expect(onlyPod().podName).not.toBe(victim);
    await waitFor(async () => !(await podExists(victim)), 60_000, 'the deleted Pod to be gone');
  });

  it('a 20-way concurrent burst: no failure and at most maxConcurrency Pods', async () => {
    const maxConcurrency = 3;
    const p = newPool(maxConcurrency);
    p.register(await appFunction());
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, backend.instances().length);
    }, 20);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => p.invoke('app', json({ action: 'sleep', ms: 150, i }))),
    ).finally(() => clearInterval(sampler));
    expect(outcomes.map((o) => o.kind)).toEqual(Array(20).fill('success'));
    const instances = new Set(outcomes.map((o) => o.instanceId));
    expect(instances.size).toBeGreaterThan(0);
    expect(instances.size).toBeLessThanOrEqual(maxConcurrency);
    expect(peak).toBeLessThanOrEqual(maxConcurrency);
    const labelled = await client().core.listNamespacedPod({
      namespace: namespace(),
      labelSelector: `${KubernetesLabels.runId}=${p.runId}`,
    });
    expect(labelled.items.length).toBeLessThanOrEqual(maxConcurrency);
  });

  it('a handler that outgrows memorySize ends as Lambda reports it (Runtime.OutOfMemory); the next call gets a fresh runtime', async () => {
    const p = newPool();
    p.register(
      await appFunction({ name: 'hog', code: join(fixturesDir, 'hog'), memorySize: 128, timeout: 30 }),
    );
    expect(await p.invoke('hog', json({ action: 'ok' }))).toMatchObject({ kind: 'success' });
    const out = await p.invoke('hog', json({ action: 'hog', mb: 1024 }));
    expect(out).toMatchObject({ functionError: 'Unhandled' });
    expect(out.error?.errorType).toBe('Runtime.OutOfMemory');
    expect(out.error?.errorMessage).toMatch(/Runtime exited with error: signal: killed/);
    expect(out.logs.at(-1)).toMatch(/Status: error\tError Type: Runtime\.OutOfMemory/);
    expect(await p.invoke('hog', json({ action: 'ok' }))).toMatchObject({
      kind: 'success',
      json: { ok: true },
    });
  });
});
