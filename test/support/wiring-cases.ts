/**
 * The wiring cases both backends must pass with the same configuration (docs/wiring.md). Called
 * inside a suite's `describe`, after `startWiringRun` in its `beforeAll`.
 */
import { expect, it } from 'vitest';
import { eventually, type WiringRun } from './wiring-run.ts';

export interface WiringExpectations {
  /** The host name functions see in LAMBDA_TESTKIT_HOST. */
  sandboxHost: string;
}

export function wiringCases(run: () => WiringRun, expected: WiringExpectations): void {
  it('gives functions the host name and the endpoint variables, their own environment winning', async () => {
    const port = run().declaredPort;
    const server = Number(new URL(run().handle.url).port);
    const env = await run().probe({
      action: 'env',
      names: [
        'LAMBDA_TESTKIT_HOST',
        'AWS_ENDPOINT_URL',
        'AWS_ENDPOINT_URL_DYNAMODB',
        'AWS_ENDPOINT_URL_S3',
        'AWS_ENDPOINT_URL_LAMBDA',
        'AWS_ACCESS_KEY_ID',
      ],
    });
    const host = expected.sandboxHost;
    expect(env).toEqual({
      LAMBDA_TESTKIT_HOST: host,
      // Written as http://localhost:4566: as it is on processes, rewritten to the host name on Docker.
      AWS_ENDPOINT_URL: host === '127.0.0.1' ? 'http://localhost:4566' : `http://${host}:4566`,
      AWS_ENDPOINT_URL_DYNAMODB: `http://${host}:${port}`,
      // awsEndpoints says http://s3:9; the function's own environment says otherwise, and wins.
      AWS_ENDPOINT_URL_S3: 'http://own-s3:1',
      AWS_ENDPOINT_URL_LAMBDA: `http://${host}:${server}`,
      AWS_ACCESS_KEY_ID: run().handle.token,
    });
  });

  it('reaches a declared host port on 127.0.0.1 through LAMBDA_TESTKIT_HOST', async () => {
    const answer = await run().probe({
      action: 'http',
      url: `http://${expected.sandboxHost}:${run().declaredPort}/`,
    });
    expect(answer).toEqual({ status: 200, body: 'declared' });
  });

  it('invokes another function synchronously and with Event through the SDK, reusing its warm instance', async () => {
    const first = await run().probe({
      action: 'invoke',
      target: 'callee',
      payload: { action: 'echo', value: 1 },
    });
    expect(first).toEqual({ status: 200, payload: { echoed: 1, function: 'callee' } });
    const second = await run().probe({
      action: 'invoke',
      target: 'callee',
      payload: { action: 'echo', value: 2 },
    });
    expect(second).toMatchObject({ status: 200, payload: { echoed: 2 } });
    const queued = await run().probe({ action: 'invoke', target: 'callee', type: 'Event' });
    expect(queued).toMatchObject({ status: 202 });
    const pool = run().handle.host.pool;
    await eventually(() => pool.stats().callee?.invocations === 3, 20_000, 'the Event call to run');
    // One instance served all three calls: the first was its cold start.
    expect(pool.stats().callee).toMatchObject({ coldStarts: 1, warmHits: 2, launches: 1, instances: 1 });
  });

  it('fails a call that waits for an instance its own caller holds, at once, with LTK_CALL_DEADLOCK', async () => {
    const started = Date.now();
    const answer = await run().probe<{ error: string; message: string; status: number }>({
      action: 'invoke',
      target: 'probe',
    });
    expect(answer.error).toBe('TooManyRequestsException');
    expect(answer.status).toBe(429);
    expect(answer.message).toContain('(probe → probe) would wait forever');
    // Far below the function's 20 s timeout: nothing waited.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses a wrong token sent from inside a function', async () => {
    const answer = await run().probe({
      action: 'invoke',
      target: 'callee',
      accessKeyId: 'not-the-run-token',
    });
    expect(answer).toMatchObject({ error: 'UnrecognizedClientException', status: 403 });
    expect(String(answer.message)).toContain('not this run’s token');
  });
}
