// The pool server against the real @aws-sdk/client-lambda (InvokeCommand), on the process backend.
import { fileURLToPath } from 'node:url';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { acquirePoolHost, releasePoolHost } from '@lambda-testkit/core';
import { PoolClient } from '@lambda-testkit/core/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('./fixtures/functions', import.meta.url));
const fn = (handler: string, more: { timeout?: number } = {}) => ({
  runtime: 'nodejs22.x',
  code: '.',
  handler,
  ...more,
});

let sdk: LambdaClient;
let client: PoolClient;
let config: ReturnType<PoolClient['sdkConfig']>;
const decode = (bytes: Uint8Array | undefined) => JSON.parse(Buffer.from(bytes ?? []).toString('utf8'));

beforeAll(async () => {
  const handle = await acquirePoolHost(
    {
      backend: 'process',
      functions: {
        echo: fn('echo.handler'),
        fail: fn('fail.handler'),
        slow: fn('slow.handler', { timeout: 1 }),
        crash: fn('crash.handler'),
        'broken-init': fn('broken-init.handler'),
      },
    },
    { root, log: () => {} },
  );
  client = new PoolClient({ url: handle.url, token: handle.token, region: handle.region });
  config = client.sdkConfig();
  sdk = new LambdaClient(config);
});
afterAll(async () => {
  sdk?.destroy();
  await client?.close();
  await releasePoolHost({ keepAlive: false });
});

describe('@aws-sdk/client-lambda InvokeCommand against the pool server', () => {
  it('invokes and returns Payload, LogResult, ExecutedVersion and the request id', async () => {
    const out = await sdk.send(
      new InvokeCommand({ FunctionName: 'echo', Payload: JSON.stringify({ hello: 'sdk' }), LogType: 'Tail' }),
    );
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(decode(out.Payload)).toMatchObject({ event: { hello: 'sdk' }, functionName: 'echo' });
    expect(out.ExecutedVersion).toBe('$LATEST');
    const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
    expect(log).toMatch(/START RequestId: \S+/);
    expect(log).toContain('echo {"hello":"sdk"}');
    expect(log).toMatch(/REPORT RequestId: /);
    expect(out.$metadata.requestId).toMatch(/\S{8,}/);
    expect(log).toContain(out.$metadata.requestId);
  });

  it('accepts a full ARN with a qualifier and passes the client context', async () => {
    const clientContext = Buffer.from(JSON.stringify({ custom: { tenant: 'acme' } })).toString('base64');
    const out = await sdk.send(
      new InvokeCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:echo',
        Qualifier: '$LATEST',
        ClientContext: clientContext,
        Payload: '{}',
      }),
    );
    expect(decode(out.Payload).clientContext).toMatchObject({ custom: { tenant: 'acme' } });
  });

  it('reports a thrown error as FunctionError Unhandled with the error document', async () => {
    const out = await sdk.send(new InvokeCommand({ FunctionName: 'fail', Payload: '{}' }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    expect(decode(out.Payload)).toMatchObject({
      errorType: 'RangeError',
      errorMessage: 'the answer is out of range',
    });
  });

  it.each([
    ['slow', 'Sandbox.Timedout', /Task timed out after 1\.00 seconds/],
    ['crash', 'Runtime.ExitError', /exit/i],
    ['broken-init', 'TypeError', /configuration missing at init/],
  ])('reports %s as FunctionError Unhandled with a JSON error document (%s)', async (name, type, message) => {
    const out = await sdk.send(new InvokeCommand({ FunctionName: name, Payload: '{}', LogType: 'Tail' }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    const doc = decode(out.Payload);
    expect(doc.errorType).toBe(type);
    expect(doc.errorMessage).toMatch(message);
    expect(out.ExecutedVersion).toBe('$LATEST');
    expect(out.$metadata.requestId).toMatch(/\S{8,}/);
  });

  it('answers Event with 202 and runs it; DryRun with 204 and does not', async () => {
    const count = async () => (await client.stats()).echo?.invocations ?? 0;
    const before = await count();
    const event = await sdk.send(
      new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: '{"async":1}' }),
    );
    expect(event.StatusCode).toBe(202);
    expect(event.$metadata.requestId).toMatch(/\S{8,}/);
    await expect.poll(count, { timeout: 30_000 }).toBe(before + 1);
    const dry = await sdk.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun' }));
    expect(dry.StatusCode).toBe(204);
    expect(await count()).toBe(before + 1);
  });

  it('throws InvalidRequestContentException (400) for a payload that is not JSON', async () => {
    const err = await sdk
      .send(new InvokeCommand({ FunctionName: 'echo', Payload: 'not json' }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'InvalidRequestContentException', $metadata: { httpStatusCode: 400 } });
  });

  it('throws ResourceNotFoundException for an unknown function, naming the known ones', async () => {
    const err = await sdk
      .send(new InvokeCommand({ FunctionName: 'orders', Payload: '{}' }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    expect((err as Error).message).toMatch(/Function not found: orders\. Known functions: echo, fail/);
  });

  it('throws RequestTooLargeException over 6 MB', async () => {
    const payload = JSON.stringify({ blob: 'x'.repeat(6 * 1024 * 1024) });
    const err = await sdk
      .send(new InvokeCommand({ FunctionName: 'echo', Payload: payload }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'RequestTooLargeException', $metadata: { httpStatusCode: 413 } });
    expect((err as Error).message).toMatch(/smaller than 6291456 bytes/);
  });

  it('rejects an access key id that is not the run token', async () => {
    const stranger = new LambdaClient({
      ...config,
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' },
    });
    const err = await stranger
      .send(new InvokeCommand({ FunctionName: 'echo', Payload: '{}' }))
      .catch((e: unknown) => e);
    stranger.destroy();
    expect(err).toMatchObject({ name: 'UnrecognizedClientException', $metadata: { httpStatusCode: 403 } });
  });
});
