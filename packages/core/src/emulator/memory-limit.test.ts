/**
 * The memory limit as the emulator enforces it (docs/emulator.md#memory): a runtime's resident size
 * is read while it works and at the end of each invocation; one over `memorySize` is killed and
 * reported as Lambda does; REPORT's Max Memory Used is its peak.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import { type RunningEmulator, startEmulator } from './emulator.ts';
import { RIE_INVOKE_PATH } from './protocol.ts';

const fixtures = new URL('./__fixtures__/', import.meta.url).pathname;

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

/** Starts a 128 MB function; `reports()` returns the REPORT lines written so far. */
async function start() {
  let text = '';
  const stdout = new PassThrough();
  stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  emulator = await startEmulator({
    handler: 'memory-handler.handler',
    port: 0,
    env: {
      LAMBDA_TASK_ROOT: fixtures,
      LAMBDA_TESTKIT_RUNTIME: 'nodejs22.x',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      PATH: process.env.PATH ?? '',
    },
    output: { stdout, stderr: new PassThrough().resume() },
  });
  return {
    reports: async () => {
      await new Promise((resolve) => setImmediate(resolve)); // piped output: one turn to arrive
      return text.split('\n').filter((line) => line.startsWith('REPORT '));
    },
  };
}

async function invoke(event: object): Promise<{ status: number; body: string }> {
  const res = await fetch(`${emulator!.url}${RIE_INVOKE_PATH}`, {
    method: 'POST',
    body: JSON.stringify(event),
  });
  return { status: res.status, body: await res.text() };
}

/** Whether this process holds `/proc/<pid>/status` open (the memory watch's reading of `pid`). */
function holdsStatusOf(pid: number): boolean {
  return readdirSync('/proc/self/fd').some((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === `/proc/${pid}/status`;
    } catch {
      return false;
    }
  });
}

const maxMemoryUsed = (report: string) => Number(/Max Memory Used: (\d+) MB/.exec(report)?.[1]);

describe.runIf(process.platform === 'linux')('memory limit', () => {
  test('back-to-back invocations report the peak; growth past the limit mid-invocation is Runtime.OutOfMemory', async () => {
    const { reports } = await start();
    const first = await invoke({});
    const { pid } = JSON.parse(first.body) as { pid: number };
    await invoke({});
    await invoke({ mb: 40 });
    const [cold, warm, grown] = await reports();
    expect(cold).toMatch(/Init Duration/);
    expect(warm).not.toMatch(/Init Duration/);
    // The peak, not the configured size: a Node runtime is well under 128 MB until it keeps 40 more.
    expect(maxMemoryUsed(warm!)).toBeGreaterThan(0);
    expect(maxMemoryUsed(warm!)).toBeLessThan(128);
    expect(maxMemoryUsed(grown!)).toBeGreaterThanOrEqual(maxMemoryUsed(warm!) + 40);
    expect(holdsStatusOf(pid)).toBe(true); // read again on every sample, opened once

    // 200 MB more while the invocation runs: the timed samples catch it before the answer.
    const killed = await invoke({ mb: 200, holdMs: 2_000 });
    expect(killed.status).toBe(502);
    expect(JSON.parse(killed.body)).toMatchObject({ errorType: 'Runtime.OutOfMemory' });
    expect((await reports()).at(-1)).toMatch(/Status: error\tError Type: Runtime\.OutOfMemory/);
    expect(holdsStatusOf(pid)).toBe(false); // let go with the runtime

    // A fresh runtime (a cold start) serves the next call.
    const next = await invoke({});
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body).pid).not.toBe(pid);
    expect((await reports()).at(-1)).toMatch(/Init Duration/);
  });

  test('a runtime that went over the limit never serves again, whichever reading saw it', async () => {
    const { reports } = await start();
    const first = await invoke({});
    const { pid } = JSON.parse(first.body) as { pid: number };
    // No hold: a timed sample may see the growth while the Buffer fills (502), or only the reading
    // at the end of the invocation does, after the answer (200); either way the runtime is killed.
    const grown = await invoke({ mb: 200 });
    if (grown.status !== 200) {
      expect(grown.status).toBe(502);
      expect(JSON.parse(grown.body)).toMatchObject({ errorType: 'Runtime.OutOfMemory' });
    }
    const next = await invoke({});
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body).pid).not.toBe(pid);
    expect((await reports()).at(-1)).toMatch(/Init Duration/);
    expect(holdsStatusOf(pid)).toBe(false);
  });
});
