// Invocation lifecycle through the pool server with the real @aws-sdk/client-lambda, on the process
// backend: trace ids, throttling, qualifiers, Event invocations.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  InvokeCommand,
  LambdaClient,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { acquirePoolHost, releasePoolHost } from '@lambda-testkit/core';
import { PoolClient } from '@lambda-testkit/core/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sharedScratch } from '../support/shared-scratch.ts';

const root = fileURLToPath(new URL('./fixtures/functions', import.meta.url));
const fn = (handler: string, more: Record<string, unknown> = {}) => ({
  runtime: 'nodejs22.x',
  code: '.',
  handler,
  ...more,
});

let sdk: LambdaClient;
let client: PoolClient;
const decode = (bytes: Uint8Array | undefined) => JSON.parse(Buffer.from(bytes ?? []).toString('utf8'));
const WELL_FORMED_TRACE = /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/;

beforeAll(async () => {
  const handle = await acquirePoolHost(
    {
      backend: 'process',
      eventRetryDelaysMs: [50, 100],
      functions: {
        trace: fn('lifecycle.trace', { functionAliases: { live: '3' } }),
        throttled: fn('lifecycle.slow', { timeout: 30, reservedConcurrency: 1 }),
        off: fn('lifecycle.slow', { reservedConcurrency: 0 }),
        record: fn('lifecycle.record'),
        failing: fn('lifecycle.failing'),
        'failing-once': fn('lifecycle.failing', { maximumRetryAttempts: 0 }),
      },
    },
    { root, log: () => {} },
  );
  client = new PoolClient({ url: handle.url, token: handle.token, region: handle.region });
  sdk = new LambdaClient(client.sdkConfig());
});
afterAll(async () => {
  sdk?.destroy();
  await client?.close();
  await releasePoolHost({ keepAlive: false });
});

describe('trace ids', () => {
  it('gives every invocation a new well-formed _X_AMZN_TRACE_ID when the caller sends none', async () => {
    const first = decode(
      (await sdk.send(new InvokeCommand({ FunctionName: 'trace', Payload: '{}' }))).Payload,
    );
    const second = decode(
      (await sdk.send(new InvokeCommand({ FunctionName: 'trace', Payload: '{}' }))).Payload,
    );
    expect(first.traceEnv).toMatch(WELL_FORMED_TRACE);
    expect(second.traceEnv).toMatch(WELL_FORMED_TRACE);
    expect(second.traceEnv).not.toBe(first.traceEnv);
  });

  it("forwards the caller's X-Amzn-Trace-Id, as the SDK sends it from inside a Lambda function", async () => {
    // The SDK's recursion-detection middleware sends _X_AMZN_TRACE_ID as X-Amzn-Trace-Id when it
    // runs in a function (AWS_LAMBDA_FUNCTION_NAME set): a function calling another one.
    const caller = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    const saved = { name: process.env.AWS_LAMBDA_FUNCTION_NAME, trace: process.env._X_AMZN_TRACE_ID };
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'caller';
    process.env._X_AMZN_TRACE_ID = caller;
    try {
      const out = await sdk.send(new InvokeCommand({ FunctionName: 'trace', Payload: '{}' }));
      expect(decode(out.Payload).traceEnv).toBe(caller);
    } finally {
      for (const [key, value] of [
        ['AWS_LAMBDA_FUNCTION_NAME', saved.name],
        ['_X_AMZN_TRACE_ID', saved.trace],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('lambda.invoke takes a trace header and reports the one the handler saw', async () => {
    const sent = 'Root=1-6759e988-00862e3fe1be46a994272793;Parent=13995c3f42cd8ad8;Sampled=0';
    const kept = await client.invoke<{ traceEnv: string }>('trace', {}, { traceId: sent });
    expect(kept.payload.traceEnv).toBe(sent);
    expect(kept.traceId).toBe(sent);
    const made = await client.invoke<{ traceEnv: string }>('trace', {}, { traceId: 'not-a-trace-header' });
    expect(made.traceId).toMatch(WELL_FORMED_TRACE);
    expect(made.payload.traceEnv).toBe(made.traceId);
  });
});

describe('throttling (reservedConcurrency)', () => {
  it('answers 429 TooManyRequestsException over the reserved concurrency, then serves again', async () => {
    // One attempt: the SDK retries throttling errors by default, which would only hide the answer.
    const once = new LambdaClient({ ...client.sdkConfig(), maxAttempts: 1 });
    try {
      const first = sdk.send(new InvokeCommand({ FunctionName: 'throttled', Payload: '{"ms":1500}' }));
      await vi.waitFor(
        async () =>
          expect(
            (await client.instances()).some((i) => i.functionName === 'throttled' && i.state === 'busy'),
          ).toBe(true),
        { timeout: 20_000, interval: 20 },
      );
      const refused = await once.send(new InvokeCommand({ FunctionName: 'throttled', Payload: '{}' })).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(TooManyRequestsException);
      expect(refused).toMatchObject({
        $metadata: { httpStatusCode: 429 },
        Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      });
      const viaHelper = await client.invoke('throttled', {}).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(viaHelper).toMatchObject({ code: 'LTK_THROTTLED' });
      expect(decode((await first).Payload)).toEqual({ slept: 1500 });
      expect(
        decode((await once.send(new InvokeCommand({ FunctionName: 'throttled', Payload: '{}' }))).Payload),
      ).toEqual({ slept: 0 });
      expect((await client.stats()).throttled).toMatchObject({ throttles: 2 });
    } finally {
      once.destroy();
    }
  });

  it('refuses every call of a function with reservedConcurrency 0', async () => {
    const once = new LambdaClient({ ...client.sdkConfig(), maxAttempts: 1 });
    try {
      const refused = await once.send(new InvokeCommand({ FunctionName: 'off', Payload: '{}' })).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(TooManyRequestsException);
    } finally {
      once.destroy();
    }
  });
});

describe('qualifiers', () => {
  const arn = 'arn:aws:lambda:us-east-1:123456789012:function:trace';

  it('gives the handler the qualified ARN and reports the executed version', async () => {
    const cases = [
      [{ FunctionName: 'trace' }, arn, '$LATEST'],
      [{ FunctionName: 'trace', Qualifier: 'live' }, `${arn}:live`, '3'],
      [{ FunctionName: 'trace:3' }, `${arn}:3`, '3'],
      [{ FunctionName: `${arn}:$LATEST` }, `${arn}:$LATEST`, '$LATEST'],
    ] as const;
    for (const [input, invokedArn, version] of cases) {
      const out = await sdk.send(new InvokeCommand({ ...input, Payload: '{}' }));
      expect(decode(out.Payload).arn).toBe(invokedArn);
      expect(out.ExecutedVersion).toBe(version);
    }
  });

  it('answers ResourceNotFoundException for an unknown qualifier, or an ARN of another account or region', async () => {
    for (const input of [
      { FunctionName: 'trace', Qualifier: 'staging' },
      { FunctionName: 'trace:4' },
      { FunctionName: 'arn:aws:lambda:us-east-1:999999999999:function:trace' },
      { FunctionName: 'arn:aws:lambda:eu-west-1:123456789012:function:trace' },
    ]) {
      const error = await sdk.send(new InvokeCommand({ ...input, Payload: '{}' })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error).toMatchObject({ $metadata: { httpStatusCode: 404 } });
    }
  });
});

describe('Event invocations', () => {
  it('answers 202 with the request id the handler sees', async () => {
    // Outside /tmp: the handler's /tmp is its own.
    const scratch = sharedScratch('ltk-event-');
    const dir = scratch.path;
    try {
      const file = join(dir, 'seen.json');
      const out = await sdk.send(
        new InvokeCommand({
          FunctionName: 'record',
          InvocationType: 'Event',
          Payload: JSON.stringify({ file }),
        }),
      );
      expect(out.StatusCode).toBe(202);
      await vi.waitFor(() => expect(existsSync(file)).toBe(true), { timeout: 20_000, interval: 25 });
      const seen = JSON.parse(readFileSync(file, 'utf8')) as { requestId: string };
      expect(seen.requestId).toBe(out.$metadata.requestId);
      const [recorded] = await client.events('record', { waitMs: 20_000 });
      expect(recorded).toEqual({
        requestId: out.$metadata.requestId,
        functionName: 'record',
        status: 'succeeded',
        attempts: [{ kind: 'success', result: null }],
      });
    } finally {
      scratch.remove();
    }
  });

  it('retries a failed Event call twice by default, with the same request id, and records each try', async () => {
    // Outside /tmp: the handler's /tmp is its own.
    const scratch = sharedScratch('ltk-event-');
    const dir = scratch.path;
    try {
      const file = join(dir, 'tries.txt');
      const out = await sdk.send(
        new InvokeCommand({
          FunctionName: 'failing',
          InvocationType: 'Event',
          Payload: JSON.stringify({ file }),
        }),
      );
      const records = await client.events('failing', { waitMs: 60_000 });
      expect(records).toHaveLength(1);
      const [record] = records;
      expect(record).toMatchObject({ requestId: out.$metadata.requestId, status: 'failed' });
      expect(record?.attempts).toHaveLength(3);
      for (const attempt of record?.attempts ?? []) {
        expect(attempt).toMatchObject({
          kind: 'handled',
          error: { errorType: 'Error', errorMessage: `failed on purpose (${out.$metadata.requestId})` },
        });
      }
      expect(readFileSync(file, 'utf8').trim().split('\n')).toEqual(Array(3).fill(out.$metadata.requestId));
    } finally {
      scratch.remove();
    }
  });

  it('honours maximumRetryAttempts: 0 (one try), and lists nothing for a function without Event calls', async () => {
    // Outside /tmp: the handler's /tmp is its own.
    const scratch = sharedScratch('ltk-event-');
    const dir = scratch.path;
    try {
      const file = join(dir, 'tries.txt');
      await client.invoke('failing-once', { file }, { invocationType: 'Event' });
      const [record] = await client.events('failing-once', { waitMs: 60_000 });
      expect(record?.status).toBe('failed');
      expect(record?.attempts).toHaveLength(1);
      expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
      expect(await client.events('trace')).toEqual([]);
    } finally {
      scratch.remove();
    }
  });
});
