/**
 * `prewarm` runs the init ahead, as provisioned concurrency does (docs/emulator.md#init-ahead): the
 * first call of a prewarmed function is warm, its init happened during setup, and its init's lines
 * are not the call's. A function launched on demand keeps Lambda's on-demand cold start, and an init
 * that fails ahead is run again by the first call, which reports its error.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessBackend, WarmPool } from '@lambda-testkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initAheadFixtureDir } from '../support/init-ahead-fixture.ts';
import { appFunction } from './helpers.ts';

let rootDir: string;
let backend: ProcessBackend;
let pool: WarmPool;
/** When the prewarm (the test run's setup) was over. */
let setupDoneAt: number;
const code = initAheadFixtureDir;
const empty = Buffer.from('{}');

beforeAll(async () => {
  rootDir = await mkdtemp(join(tmpdir(), 'ltk-process-prewarm-'));
  backend = new ProcessBackend({ rootDir });
  pool = new WarmPool({ backend, runId: 'prewarm-run' });
  pool.register(await appFunction({ name: 'ahead', code }));
  pool.register(await appFunction({ name: 'on-demand', code }));
  pool.register(await appFunction({ name: 'broken', code, environment: { FAIL_INIT: 'true' } }));
  await Promise.all([pool.prewarm('ahead'), pool.prewarm('broken')]);
  setupDoneAt = Date.now();
}, 60_000);

afterAll(async () => {
  await pool?.stopAll();
  await backend?.close();
  await rm(rootDir, { recursive: true, force: true });
});

describe('prewarm runs the init ahead (process backend)', () => {
  it('serves the first call of a prewarmed function warm: its init ran during setup', async () => {
    const first = await pool.invoke('ahead', empty);
    expect(first).toMatchObject({
      kind: 'success',
      coldStart: false,
      json: { attempt: 1, invocations: 1, initializationType: 'provisioned-concurrency' },
    });
    expect((first.json as { initAt: number }).initAt).toBeLessThanOrEqual(setupDoneAt);
    // The init's lines belong to the init, not to the call; no Init Duration in its REPORT.
    expect(first.logs[0]).toBe(`START RequestId: ${first.requestId} Version: $LATEST`);
    expect(first.logs.join('\n')).not.toMatch(/INIT_START|init attempt/);
    expect(first.logs.at(-1)).toMatch(new RegExp(`^REPORT RequestId: ${first.requestId}\\t`));
    expect(first.logs.at(-1)).not.toContain('Init Duration');
    const second = await pool.invoke('ahead', empty);
    expect(second).toMatchObject({
      coldStart: false,
      instanceId: first.instanceId,
      json: { invocations: 2 },
    });
    expect(pool.stats().ahead).toMatchObject({ launches: 1, coldStarts: 0, warmHits: 2 });
  });

  it('keeps the on-demand cold start for a function that was not prewarmed', async () => {
    const calledAt = Date.now();
    const first = await pool.invoke('on-demand', empty);
    expect(first).toMatchObject({
      kind: 'success',
      coldStart: true,
      json: { attempt: 1, invocations: 1, initializationType: 'on-demand' },
    });
    expect((first.json as { initAt: number }).initAt).toBeGreaterThanOrEqual(calledAt);
    expect(first.logs[0]).toMatch(/^INIT_START Runtime Version: /);
    expect(first.logs.some((line) => /init attempt 1 at \d+/.test(line))).toBe(true);
    expect(first.logs.at(-1)).toMatch(/\tInit Duration: [\d.]+ ms/);
    expect(pool.stats()['on-demand']).toMatchObject({ launches: 1, coldStarts: 1, warmHits: 0 });
  });

  it('runs a failed init again at the first call, which reports the init error', async () => {
    // The prewarm itself succeeded (setup went on); its failed init left no runtime behind.
    const first = await pool.invoke('broken', empty);
    expect(first.kind).toBe('init');
    expect(first.error?.errorType).toBe('Runtime.ImportModuleError');
    expect(first.coldStart).toBe(true);
    // The call's init is the second attempt in this instance: the first ran during the prewarm.
    expect(first.logs[0]).toMatch(/^INIT_START Runtime Version: /);
    expect(first.logs.some((line) => /init attempt 2 at \d+/.test(line))).toBe(true);
    expect(first.logs.at(-1)).toMatch(/\tInit Duration: [\d.]+ ms/);
    expect(first.logs.at(-1)).toMatch(/Status: error\tError Type: Runtime\.ImportModuleError/);
    expect(pool.stats().broken).toMatchObject({ launches: 1, launchFailures: 0 });
  });
});
