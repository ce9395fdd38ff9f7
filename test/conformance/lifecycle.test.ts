/**
 * The lifecycle of a sandbox (docs/emulator.md#lifecycle), with both runtime clients behind the
 * emulator: the init phase has its own clock, the runtime is frozen between invocations (and never
 * restarted behind the caller's back without saying so), and memory is a limit that REPORT measures.
 */
import { afterEach, describe, expect, test } from 'vitest';
import {
  CLIENTS,
  type EmulatorUnderTest,
  type RuntimeClient,
  type StartOptions,
  startEmulator,
} from './harness.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(CLIENTS)('sandbox lifecycle with the $name runtime client', (client: RuntimeClient) => {
  const running: EmulatorUnderTest[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((e) => e.close()));
  });

  async function start(handler: string, options: Partial<StartOptions> = {}): Promise<EmulatorUnderTest> {
    const emulator = await startEmulator({ handler, client, ...options });
    running.push(emulator);
    return emulator;
  }

  function json(text: string): Record<string, unknown> {
    return JSON.parse(text) as Record<string, unknown>;
  }

  /** The REPORT line of the `n`th invocation (1-based), once the emulator printed it. */
  async function report(emulator: EmulatorUnderTest, n: number): Promise<string> {
    await emulator.waitForStdout(new RegExp(`(?:^REPORT [^\\n]*\\n[\\s\\S]*){${n}}`, 'm'));
    return emulator.stdout.match(/^REPORT [^\n]*$/gm)![n - 1]!;
  }

  test('init has its own clock: a 1 s function with a 1.5 s init gets its whole second', async () => {
    const emulator = await start('lifecycle.work', {
      env: { AWS_LAMBDA_FUNCTION_TIMEOUT: '1', INIT_DELAY_MS: '1500' },
    });
    const cold = await emulator.invoke({ ms: 0 });
    expect(cold.status).toBe(200);
    const remaining = Number(json(cold.text).remaining);
    // The deadline is set when the event is delivered, after init.
    // One timer for init + invoke would have timed out during init: anything left proves the split
    // (a loaded machine may take a while between delivery and the handler's first line).
    expect(remaining).toBeGreaterThan(500);
    expect(remaining).toBeLessThanOrEqual(1000);
    const initMs = Number(/Init Duration: (\d+\.\d\d) ms/.exec(await report(emulator, 1))?.[1]);
    expect(initMs).toBeGreaterThanOrEqual(1500);
  });

  test('after a 1.5 s init, 600 ms of handler work fits in a 1 s timeout; 1.5 s does not', async () => {
    const emulator = await start('lifecycle.work', {
      env: { AWS_LAMBDA_FUNCTION_TIMEOUT: '1', INIT_DELAY_MS: '1500' },
    });
    const cold = await emulator.invoke({ ms: 600 });
    expect(cold.status).toBe(200);
    expect(json(cold.text).invocations).toBe(1);
    expect((await emulator.invoke({ ms: 1500 })).text).toBe('Task timed out after 1.00 seconds');
  });

  test('frozen between invocations: a timer left running fires in the next invocation, not in between', async () => {
    const emulator = await start('lifecycle.armTimer');
    const armed = json((await emulator.invoke({ ms: 300 })).text);
    await sleep(800);
    const sentAt = Date.now();
    const answer = await startReport(emulator, { waitMs: 200 });
    expect(answer.pid).toBe(armed.pid);
    expect(answer.timerFiredAt).not.toBeNull();
    // Not fired at armedAt + 300 while idle: it resumed with the second invocation.
    expect(Number(answer.timerFiredAt)).toBeGreaterThanOrEqual(sentAt);
  });

  test('the freeze can be turned off (LAMBDA_TESTKIT_FREEZE=false): the timer fires while idle', async () => {
    const emulator = await start('lifecycle.armTimer', { env: { LAMBDA_TESTKIT_FREEZE: 'false' } });
    const armed = json((await emulator.invoke({ ms: 300 })).text);
    await sleep(800);
    const sentAt = Date.now();
    const answer = await startReport(emulator, { waitMs: 0 });
    expect(answer.pid).toBe(armed.pid);
    expect(Number(answer.timerFiredAt)).toBeLessThan(sentAt);
  });

  test('an error thrown by a leftover timer fails the next invocation, which then reports no restart', async () => {
    const emulator = await start('lifecycle.leak');
    const first = await emulator.invoke({ arm: true });
    expect(first.status).toBe(200);
    await sleep(500);
    const second = await emulator.invoke({ waitMs: 300 });
    // Either the client posts the error for the invocation it is in, or it exits before it read the
    // event; both are how Lambda shows "the error leaked into the next invocation".
    if (second.status === 200) {
      expect(json(second.text)).toMatchObject({ errorMessage: 'leaked from the previous invocation' });
    } else {
      expect(second.status).toBe(502);
      expect(json(second.text).errorType).toBe('Runtime.ExitError');
    }
    expect(await report(emulator, 2)).not.toContain('Init Duration');
    // The runtime is gone: the third invocation is a cold start, with fresh module state.
    const third = await emulator.invoke({});
    expect(json(third.text).invocations).toBe(1);
    expect(await report(emulator, 3)).toContain('Init Duration');
  });

  test('without the freeze, a runtime that died while idle is restarted, and REPORT says so (Init Duration)', async () => {
    const emulator = await start('lifecycle.leak', { env: { LAMBDA_TESTKIT_FREEZE: 'false' } });
    const first = json((await emulator.invoke({ arm: true })).text);
    await sleep(500);
    const second = await emulator.invoke({});
    if (client.name === 'ric') {
      // aws-lambda-ric@4 waits for /next in a native worker thread, and Node's exit waits for that
      // thread: the runtime that threw while idle only ends once the next event arrives, so the error
      // lands in the next invocation even without the freeze (and nothing is restarted unseen).
      expect(second.status).toBe(502);
      expect(json(second.text).errorType).toBe('Runtime.ExitError');
      expect(await report(emulator, 2)).not.toContain('Init Duration');
      return;
    }
    expect(second.status).toBe(200);
    expect(json(second.text).invocations).toBe(1);
    expect(json(second.text).pid).not.toBe(first.pid);
    expect(await report(emulator, 2)).toMatch(/Init Duration: \d+\.\d\d ms/);
  });

  test.each([
    ['Buffers outside the V8 heap', 'lifecycle.hogBuffers'],
    ['JavaScript objects in the V8 heap', 'lifecycle.hogHeap'],
  ])('400 MB of %s in a 128 MB function: Runtime.OutOfMemory, then a cold start', async (_what, handler) => {
    const emulator = await start(handler, { env: { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128' } });
    const answer = await emulator.invoke({ mb: 400 });
    expect(answer.status).toBe(502);
    expect(json(answer.text)).toMatchObject({
      errorType: 'Runtime.OutOfMemory',
      errorMessage: expect.stringMatching(/^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: /),
    });
    const next = await emulator.invoke({ mb: 1 });
    expect(next.status).toBe(200);
    expect(json(next.text)).toEqual({ kept: 1 });
    expect(await report(emulator, 2)).toContain('Init Duration');
  });

  test('REPORT measures Max Memory Used: more after 60 MB were kept, never the configured size', async () => {
    const emulator = await start('lifecycle.hogBuffers', { env: { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512' } });
    await emulator.invoke({ mb: 0 });
    await emulator.invoke({ mb: 60 });
    const used = [1, 2].map(async (n) => {
      const line = await report(emulator, n);
      expect(line).toContain('Memory Size: 512 MB');
      return Number(/Max Memory Used: (\d+) MB/.exec(line)?.[1]);
    });
    const [idle, loaded] = await Promise.all(used);
    expect(idle).toBeGreaterThan(10);
    expect(idle).toBeLessThan(512);
    expect(loaded! - idle!).toBeGreaterThanOrEqual(55);
  });
});

/** `lifecycle.armTimer` and `lifecycle.report` share module state: the report is an armTimer event. */
async function startReport(
  emulator: EmulatorUnderTest,
  event: { waitMs: number },
): Promise<Record<string, unknown>> {
  const answer = await emulator.invoke({ ...event, report: true });
  return JSON.parse(answer.text) as Record<string, unknown>;
}
