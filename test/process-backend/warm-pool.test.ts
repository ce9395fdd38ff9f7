/**
 * The ProcessBackend under the WarmPool, as users run it: cold then warm on one instance, log
 * capture START…REPORT, recovery after a timeout and a crash, parallel calls on separate
 * instances, and nothing left once the pool and the backend are stopped.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessBackend, WarmPool } from '@lambda-testkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appFunction, isRunning, processesUnder } from './helpers.ts';

let rootDir: string;
let backend: ProcessBackend;
let pool: WarmPool;
const runId = 'pool-run';
const event = (value: unknown) => Buffer.from(JSON.stringify(value));

beforeAll(async () => {
  rootDir = await mkdtemp(join(tmpdir(), 'ltk-process-pool-'));
  backend = new ProcessBackend({ rootDir });
  pool = new WarmPool({ backend, runId, maxConcurrency: 2, region: 'ap-southeast-2' });
  pool.register(await appFunction({ name: 'echo' }));
  pool.register(await appFunction({ name: 'slow', handler: 'index.slow', timeout: 1 }));
  // The same handler with room to spare: on a loaded machine a 400 ms sleep plus the runtime's
  // overhead can pass 'slow''s 1 s timeout, which that test is not about.
  pool.register(await appFunction({ name: 'parallel', handler: 'index.slow', timeout: 20 }));
  pool.register(await appFunction({ name: 'exit', handler: 'index.exit' }));
});

afterAll(async () => {
  await pool?.stopAll();
  await backend?.close();
  await rm(rootDir, { recursive: true, force: true });
});

describe('ProcessBackend through the WarmPool', () => {
  it('launches on the first call and serves the second warm from the same instance, with its logs', async () => {
    const cold = await pool.invoke('echo', event({ n: 1 }));
    const warm = await pool.invoke('echo', event({ n: 2 }));
    expect(cold).toMatchObject({
      kind: 'success',
      coldStart: true,
      json: { invocations: 1, echo: { n: 1 } },
    });
    expect(warm).toMatchObject({
      kind: 'success',
      coldStart: false,
      json: { invocations: 2, echo: { n: 2 } },
    });
    expect(warm.instanceId).toBe(cold.instanceId);
    expect(cold.logs[0]).toMatch(/^INIT_START Runtime Version: /);
    expect(cold.logs[1]).toBe(`START RequestId: ${cold.requestId} Version: $LATEST`);
    expect(warm.logs[0]).toBe(`START RequestId: ${warm.requestId} Version: $LATEST`);
    expect(cold.logs.at(-1)).toMatch(new RegExp(`^REPORT RequestId: ${cold.requestId}\\t.*Init Duration`));
    expect(warm.logs.at(-1)).toMatch(new RegExp(`^REPORT RequestId: ${warm.requestId}\\t`));
    expect(pool.stats().echo).toMatchObject({ coldStarts: 1, warmHits: 1, launches: 1 });
  });

  it('reports a timeout, then serves the next call', async () => {
    const timedOut = await pool.invoke('slow', event({ sleepMs: 3000 }));
    expect(timedOut.kind).toBe('timeout');
    expect(timedOut.payload.toString()).toContain('Task timed out after 1.00 seconds');
    const next = await pool.invoke('slow', event({}));
    expect(next).toMatchObject({ kind: 'success', json: { invocations: 1 } });
  });

  it('reports a runtime exit, then serves the next call', async () => {
    const crashed = await pool.invoke('exit', event({ exit: true }));
    expect(crashed.kind).toBe('exit');
    expect(crashed.error?.errorType).toBe('Runtime.ExitError');
    const next = await pool.invoke('exit', event({}));
    expect(next).toMatchObject({ kind: 'success', json: { invocations: 1 } });
  });

  it('runs parallel calls on separate instances (one call per instance)', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) => pool.invoke('parallel', event({ sleepMs: 400, n }))),
    );
    expect(results.map((r) => r.kind)).toEqual(['success', 'success', 'success', 'success']);
    expect(new Set(results.map((r) => r.instanceId)).size).toBe(2);
  });

  it('leaves no process and no folder once the pool and the backend are stopped', async () => {
    expect(pool.list().length).toBeGreaterThan(0);
    const running = processesUnder(join(rootDir, runId));
    expect(running.length).toBeGreaterThan(0);
    await pool.stopAll();
    await backend.close();
    for (const pid of running) expect(isRunning(pid)).toBe(false);
    expect(processesUnder(rootDir)).toEqual([]);
    expect(existsSync(join(rootDir, runId))).toBe(false);
  });
});
