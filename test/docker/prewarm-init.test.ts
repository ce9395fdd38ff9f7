/**
 * `prewarm` on the DockerBackend with the local image (lambda-testkit's emulator): the init runs while
 * the container starts, before the pool gets the instance (docs/emulator.md#init-ahead), so the first
 * call is warm; a function launched on demand keeps its cold start; an init that fails ahead is run
 * again by the first call, which reports its error.
 */
import { randomUUID } from 'node:crypto';
import { DockerBackend, WarmPool } from '@lambda-testkit/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initAheadFixtureDir } from '../support/init-ahead-fixture.ts';
import { appFunction, dockerMissing, requireDocker } from './helpers.ts';

let backend: DockerBackend;
let pool: WarmPool;
let setupDoneAt: number;
const code = initAheadFixtureDir;
const empty = Buffer.from('{}');

beforeEach(() => requireDocker());

beforeAll(async () => {
  if (dockerMissing()) return;
  backend = new DockerBackend({ log: () => {} });
  // A run id of its own: several runs of this suite may share one engine.
  pool = new WarmPool({ backend, idleTtlMs: Number.POSITIVE_INFINITY, runId: randomUUID() });
  pool.register(await appFunction({ name: 'ahead', code }));
  pool.register(await appFunction({ name: 'on-demand', code }));
  pool.register(await appFunction({ name: 'broken', code, environment: { FAIL_INIT: 'true' } }));
  await Promise.all([pool.prewarm('ahead'), pool.prewarm('broken')]);
  setupDoneAt = Date.now();
}, 120_000);

afterAll(async () => {
  await pool?.stopAll();
  expect(backend?.instances() ?? []).toEqual([]);
  await backend?.close();
});

describe('prewarm runs the init ahead (Docker, local image)', () => {
  it('serves the first call of a prewarmed function warm: its init ran during setup', async () => {
    const first = await pool.invoke('ahead', empty);
    expect(first).toMatchObject({
      kind: 'success',
      coldStart: false,
      json: { attempt: 1, invocations: 1, initializationType: 'provisioned-concurrency' },
    });
    // The container's clock is the host's: the init ran before the setup was over.
    expect((first.json as { initAt: number }).initAt).toBeLessThanOrEqual(setupDoneAt);
    expect(first.logs[0]).toBe(`START RequestId: ${first.requestId} Version: $LATEST`);
    expect(first.logs.join('\n')).not.toMatch(/INIT_START|init attempt/);
    expect(first.logs.at(-1)).toMatch(new RegExp(`^REPORT RequestId: ${first.requestId}\\t`));
    expect(first.logs.at(-1)).not.toContain('Init Duration');
    expect(pool.stats().ahead).toMatchObject({ launches: 1, coldStarts: 0, warmHits: 1 });
  });

  it('keeps the on-demand cold start for a function that was not prewarmed', async () => {
    const first = await pool.invoke('on-demand', empty);
    expect(first).toMatchObject({
      kind: 'success',
      coldStart: true,
      json: { attempt: 1, invocations: 1, initializationType: 'on-demand' },
    });
    expect((first.json as { initAt: number }).initAt).toBeGreaterThan(setupDoneAt);
    expect(first.logs[0]).toMatch(/^INIT_START Runtime Version: /);
    expect(first.logs.at(-1)).toMatch(/\tInit Duration: [\d.]+ ms/);
  });

  it('runs a failed init again at the first call, which reports the init error', async () => {
    const first = await pool.invoke('broken', empty);
    expect(first.kind).toBe('init');
    expect(first.error?.errorType).toBe('Runtime.ImportModuleError');
    expect(first.coldStart).toBe(true);
    expect(first.logs[0]).toMatch(/^INIT_START Runtime Version: /);
    expect(first.logs.some((line) => /init attempt 2 at \d+/.test(line))).toBe(true);
    expect(first.logs.at(-1)).toMatch(/Status: error\tError Type: Runtime\.ImportModuleError/);
  });
});
