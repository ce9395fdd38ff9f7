import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import { type RunningEmulator, startEmulator } from './emulator.ts';

const probe = join(import.meta.dirname, '__fixtures__', 'probe-runtime.mjs');
const env = {
  AWS_LAMBDA_FUNCTION_NAME: 'probe',
  AWS_REGION: 'ap-south-1',
  LAMBDA_TESTKIT_ACCOUNT_ID: '444455556666',
  AWS_LAMBDA_FUNCTION_TIMEOUT: '7',
  LAMBDA_TASK_ROOT: import.meta.dirname,
  // The probe keeps working while its /next waits (it sends a second one): no freeze between invokes.
  LAMBDA_TESTKIT_FREEZE: 'false',
  PATH: process.env.PATH ?? '',
};

/** Keeps START/REPORT lines out of the test output (the runtime is piped), collecting stdout. */
function quiet() {
  const stdout = new PassThrough();
  stdout.on('data', (chunk: Buffer) => {
    printed += chunk.toString();
  });
  return { stdout, stderr: new PassThrough().resume() };
}
let printed = '';

/** Waits (bounded) until the runtime printed `text`. */
async function printedLine(text: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!printed.includes(text)) {
    if (Date.now() > until) throw new Error(`The runtime never printed "${text}"; it printed:\n${printed}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Runtime API state machine (docs/lambda-apis.md#runtime-api)', () => {
  let emulator: RunningEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
  });

  /** The probe runtime behind an emulator with the given invoke profile. */
  async function start(profile?: 'rie' | 'lambda'): Promise<RunningEmulator> {
    emulator = await startEmulator({
      handler: 'probe.handler',
      port: 0,
      bootstrap: probe,
      env,
      output: quiet(),
      ...(profile ? { profile } : {}),
    });
    return emulator;
  }

  async function invoke(body: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${emulator!.url}/2015-03-31/functions/function/invocations`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers,
    });
    return { status: res.status, text: await res.text() };
  }

  test('403 before /next, 400 for a wrong or used id, 403 init/error after /next, 400 bad response mode', async () => {
    await start();
    const first = await invoke({ hello: 'world' }, { 'X-Amzn-Trace-Id': 'Root=1-abc;Sampled=1' });
    expect(first.status).toBe(200);
    const seen = JSON.parse(first.text);
    expect(seen.responseBeforeNext).toEqual({
      status: 403,
      body: expect.objectContaining({ errorType: 'InvalidStateTransition' }),
    });
    expect(seen.initErrorAfterNext.status).toBe(403);
    expect(seen.wrongId).toEqual({
      status: 400,
      body: { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' },
    });
    expect(seen.event).toBe('{"hello":"world"}');
    expect(seen.headers['lambda-runtime-invoked-function-arn']).toBe(
      'arn:aws:lambda:ap-south-1:444455556666:function:probe',
    );
    expect(seen.headers['lambda-runtime-trace-id']).toBe('Root=1-abc;Sampled=1');
    expect(seen.headers['content-type']).toBe('application/json');
    const deadline = Number(seen.headers['lambda-runtime-deadline-ms']);
    expect(deadline - Date.now()).toBeGreaterThan(5_000);
    expect(deadline - Date.now()).toBeLessThanOrEqual(7_000);

    // /error without the type header: the body's errorType counts; the body is forwarded verbatim.
    const second = await invoke({});
    expect(second).toEqual({
      status: 200,
      text: '{"errorType":"FromBody","errorMessage":"typed by the body"}',
    });
    const third = JSON.parse((await invoke({})).text);
    expect(third.duplicate.status).toBe(400);
    expect(third.errorAccepted).toEqual({ status: 202, body: { status: 'OK' } });

    const badMode = await invoke({});
    expect(badMode.status).toBe(200);
    expect(JSON.parse(badMode.text).errorType).toBe('Runtime.InvalidResponseModeHeader');

    // A second /next never displaces the one waiting (it would take the next event): it gets 403.
    await printedLine('probe: one of two concurrent /next refused');
    const fifth = await invoke({});
    expect(fifth.status).toBe(200);
    expect(JSON.parse(fifth.text)).toEqual({
      takenStatus: 200,
      refused: {
        status: 403,
        body: expect.objectContaining({
          errorType: 'InvalidStateTransition',
          errorMessage: expect.stringContaining('a /next request is already waiting'),
        }),
      },
    });
  });

  test('lambda profile: Invoke API shapes for success, function name routing and 404', async () => {
    const running = await start('lambda');
    const res = await fetch(`${running.url}/2015-03-31/functions/probe/invocations`, {
      method: 'POST',
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-amz-executed-version')).toBe('$LATEST');
    await res.arrayBuffer();
    const other = await fetch(`${running.url}/2015-03-31/functions/someone-else/invocations`, {
      method: 'POST',
      body: '{}',
    });
    expect(other.status).toBe(404);
    expect(other.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    await other.arrayBuffer();
    const dry = await fetch(`${running.url}/2015-03-31/functions/probe/invocations`, {
      method: 'POST',
      body: '{}',
      headers: { 'X-Amz-Invocation-Type': 'DryRun' },
    });
    expect(dry.status).toBe(204);
  });
});
