/**
 * A function's `loggingConfig` on the DockerBackend (local image: the emulator and the Node bootstrap
 * inside the container), read as a test reads them: the invocation's logs from the pool
 * (docs/lambda-apis.md#logging-configuration).
 */
import { randomUUID } from 'node:crypto';
import { DockerBackend, WarmPool } from '@lambda-testkit/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appFunction, json, requireDocker } from './helpers.ts';

let backend: DockerBackend;
let pool: WarmPool | undefined;

beforeEach(() => requireDocker());
beforeAll(() => {
  backend = new DockerBackend({ log: () => {} });
});
afterEach(async () => {
  await pool?.stopAll();
  pool = undefined;
});
afterAll(async () => {
  await backend.close();
});

function newPool(): WarmPool {
  pool = new WarmPool({
    backend,
    maxConcurrency: 2,
    idleTtlMs: Number.POSITIVE_INFINITY,
    runId: randomUUID(),
  });
  return pool;
}

interface Line {
  type?: string;
  level?: string;
  message?: string;
  requestId?: string;
  record?: { requestId?: string; status?: string; metrics?: Record<string, unknown> };
}

describe('loggingConfig on the DockerBackend', () => {
  it('JSON: platform records and JSON console lines, below the application level dropped', async () => {
    const p = newPool();
    p.register(
      await appFunction({
        loggingConfig: { logFormat: 'JSON', applicationLogLevel: 'WARN', systemLogLevel: 'INFO' },
      }),
    );
    const cold = await p.invoke('app', json({ action: 'levels' }));
    const warm = await p.invoke('app', json({ action: 'levels' }));
    expect([cold.coldStart, warm.coldStart]).toEqual([true, false]);
    const lines = cold.logs.map((l) => JSON.parse(l) as Line);
    expect(lines.map((l) => l.type ?? l.level)).toEqual([
      'platform.initStart',
      'platform.start',
      'WARN',
      'ERROR',
      'platform.report',
    ]);
    expect(lines[1]?.record?.requestId).toBe(cold.requestId);
    expect(lines[2]).toMatchObject({ message: 'warn line', requestId: cold.requestId });
    expect(lines[4]?.record?.metrics?.initDurationMs).toEqual(expect.any(Number));
    const warmTypes = warm.logs.map((l) => (JSON.parse(l) as Line).type ?? (JSON.parse(l) as Line).level);
    expect(warmTypes).toEqual(['platform.start', 'WARN', 'ERROR', 'platform.report']);
  });

  it('JSON with the system level at WARN: only the console lines, the pool still cuts each invocation', async () => {
    const p = newPool();
    p.register(
      await appFunction({
        loggingConfig: { logFormat: 'JSON', applicationLogLevel: 'INFO', systemLogLevel: 'WARN' },
      }),
    );
    const first = await p.invoke('app', json({ action: 'levels' }));
    const second = await p.invoke('app', json({ action: 'levels' }));
    for (const out of [first, second]) {
      expect(out.logs.map((l) => (JSON.parse(l) as Line).level)).toEqual(['INFO', 'WARN', 'ERROR']);
      expect(out.logs.every((l) => (JSON.parse(l) as Line).requestId === out.requestId)).toBe(true);
    }
    expect([first.coldStart, second.coldStart]).toEqual([true, false]);
  });

  it('Text (the default): INIT_START first; a timeout ends REPORT with Status: timeout', async () => {
    const p = newPool();
    p.register(await appFunction({ timeout: 1 }));
    const out = await p.invoke('app', json({ action: 'sleep', ms: 5_000 }));
    expect(out.kind).toBe('timeout');
    expect(out.logs[0]).toMatch(/^INIT_START Runtime Version: nodejs:22\.v0\tRuntime Version ARN: /);
    expect(out.logs.at(-1)).toMatch(
      new RegExp(
        `^REPORT RequestId: ${out.requestId}\\tDuration: 1000\\.00 ms\\t.*\\tMax Memory Used: \\d+ MB\\tInit Duration: \\d+\\.\\d\\d ms\\tStatus: timeout$`,
      ),
    );
  });
});
