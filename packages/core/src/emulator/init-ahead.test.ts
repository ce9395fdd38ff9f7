/**
 * The emulator's init-ahead (docs/emulator.md#init-ahead): with it, the init runs before the invoke
 * endpoint listens and the first invoke is warm; an init that runs past the init limit ahead is
 * abandoned and run again, on demand, by the first invoke.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import { type RunningEmulator, startEmulator } from './emulator.ts';
import { INIT_TIMEOUT_MS, RIE_INVOKE_PATH } from './protocol.ts';

const fixtures = new URL('./__fixtures__/', import.meta.url).pathname;

let emulator: RunningEmulator | undefined;
let scratch: string | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  if (scratch) await rm(scratch, { recursive: true, force: true });
  scratch = undefined;
});

/** Starts the emulator; `stdout()` returns what it wrote so far (platform records and runtime output). */
async function start(env: Record<string, string>, initAhead: boolean | undefined) {
  scratch = await mkdtemp(join(tmpdir(), 'ltk-init-ahead-'));
  let text = '';
  const stdout = new PassThrough();
  stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  emulator = await startEmulator({
    handler: 'init-ahead-handler.handler',
    port: 0,
    env: {
      LAMBDA_TASK_ROOT: fixtures,
      LAMBDA_TESTKIT_RUNTIME: 'nodejs22.x',
      INIT_COUNTER_FILE: join(scratch, 'attempts'),
      // As backends set it; the emulator says otherwise for an init it runs ahead.
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      PATH: process.env.PATH ?? '',
      ...env,
    },
    ...(initAhead === undefined ? {} : { initAhead }),
    output: { stdout, stderr: new PassThrough().resume() },
  });
  // Output is piped: one turn lets what was written reach `text`.
  return {
    stdout: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return text;
    },
  };
}

async function invoke(): Promise<{ attempt: number; initializationType: string }> {
  const res = await fetch(`${emulator!.url}${RIE_INVOKE_PATH}`, { method: 'POST', body: '{}' });
  return (await res.json()) as { attempt: number; initializationType: string };
}

/** JSON platform records of `type` in `text`. */
function records(text: string, type: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { type: string; record: Record<string, unknown> })
    .filter((line) => line.type === type)
    .map((line) => line.record);
}

describe('init ahead', () => {
  test('runs the init before the endpoint listens; the first invoke is warm', async () => {
    const out = await start({}, true);
    const setup = await out.stdout();
    expect(setup).toMatch(/^INIT_START Runtime Version: nodejs:22\.v0\t/);
    expect(setup).toContain('init attempt 1');
    expect(setup).not.toContain('START RequestId');
    expect(await invoke()).toEqual({ attempt: 1, initializationType: 'provisioned-concurrency' });
    const call = (await out.stdout()).slice(setup.length);
    expect(call).toMatch(/^START RequestId: /);
    expect(call).toMatch(/\nREPORT RequestId: /);
    expect(call).not.toContain('Init Duration');
    expect(call).not.toContain('INIT_START');
  });

  test('LAMBDA_TESTKIT_INIT_AHEAD=1 switches it on; JSON records name provisioned concurrency', async () => {
    const out = await start(
      {
        LAMBDA_TESTKIT_INIT_AHEAD: '1',
        AWS_LAMBDA_LOG_FORMAT: 'JSON',
        LAMBDA_TESTKIT_SYSTEM_LOG_LEVEL: 'DEBUG',
      },
      undefined,
    );
    const setup = await out.stdout();
    expect(records(setup, 'platform.initStart')).toMatchObject([
      { initializationType: 'provisioned-concurrency', phase: 'init' },
    ]);
    expect(records(setup, 'platform.initReport')).toMatchObject([
      { initializationType: 'provisioned-concurrency', status: 'success' },
    ]);
    expect(await invoke()).toEqual({ attempt: 1, initializationType: 'provisioned-concurrency' });
    const report = records(await out.stdout(), 'platform.report');
    expect(report).toHaveLength(1);
    expect(report[0]?.metrics).not.toHaveProperty('initDurationMs');
  });

  test('without it the init waits for the first invoke (on demand)', async () => {
    const out = await start({}, undefined);
    expect(await out.stdout()).toBe('');
    expect(await invoke()).toEqual({ attempt: 1, initializationType: 'on-demand' });
    const call = await out.stdout();
    expect(call).toMatch(/^INIT_START /);
    expect(call).toMatch(/\tInit Duration: [\d.]+ ms/);
  });

  test(
    'an init past the init limit is abandoned, and the first invoke runs it again on demand',
    async () => {
      const started = performance.now();
      const out = await start(
        {
          AWS_LAMBDA_LOG_FORMAT: 'JSON',
          SLOW_ATTEMPTS: '1',
          SLOW_INIT_MS: String(INIT_TIMEOUT_MS + 20_000),
        },
        true,
      );
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(INIT_TIMEOUT_MS - 50);
      expect(waited).toBeLessThan(INIT_TIMEOUT_MS + 10_000);
      expect(records(await out.stdout(), 'platform.initReport')).toMatchObject([
        {
          initializationType: 'provisioned-concurrency',
          status: 'timeout',
          errorType: 'Runtime.InitTimeout',
        },
      ]);
      expect(await invoke()).toEqual({ attempt: 2, initializationType: 'on-demand' });
      const report = records(await out.stdout(), 'platform.report');
      expect(report[0]?.metrics).toHaveProperty('initDurationMs');
    },
    INIT_TIMEOUT_MS + 30_000,
  );
});
