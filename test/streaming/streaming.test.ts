// Response streaming end to end on the process backend: the pool server's InvokeWithResponseStream
// route, read by PoolClient.invokeStream and by the real @aws-sdk/client-lambda. (Backpressure is
// tested hop by hop in core, src/pool/stream-backpressure.test.ts and src/server/stream-invoke.test.ts:
// end to end, the socket buffers of four loopback hops can hold all of a 20 MiB response.)
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  InvokeWithResponseStreamCommand,
  type InvokeWithResponseStreamCommandOutput,
  type InvokeWithResponseStreamCompleteEvent,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { acquirePoolHost, releasePoolHost } from '@lambda-testkit/core';
import { type InvokeStreamResult, PoolClient } from '@lambda-testkit/core/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedScratch } from '../support/shared-scratch.ts';

const root = fileURLToPath(new URL('./fixtures/functions', import.meta.url));
const MiB = 1024 * 1024;
const fn = (handler: string, timeout = 30) => ({ runtime: 'nodejs22.x', code: '.', handler, timeout });

let client: PoolClient;
let sdk: LambdaClient;
// The gate file is written here and read by a confined handler: outside /tmp, which is the handler's own.
let scratch: ReturnType<typeof sharedScratch>;

beforeAll(async () => {
  const handle = await acquirePoolHost(
    {
      backend: 'process',
      functions: {
        chunks: fn('stream.chunks'),
        gated: fn('stream.gated'),
        'fails-midway': fn('stream.failsMidway'),
        http: fn('stream.http'),
        big: fn('stream.big'),
        buffered: fn('stream.buffered'),
        'buffered-fails': fn('stream.bufferedFails'),
        hangs: fn('stream.hangs', 1),
      },
    },
    { root, log: () => {} },
  );
  client = new PoolClient({ url: handle.url, token: handle.token, region: handle.region });
  sdk = new LambdaClient(client.sdkConfig());
  scratch = sharedScratch('ltk-streaming-');
});
afterAll(async () => {
  sdk?.destroy();
  await client?.close();
  await releasePoolHost({ keepAlive: false });
  scratch?.remove();
});

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

describe('PoolClient.invokeStream', () => {
  it('hands over the first chunk while the handler is still running', async () => {
    const gate = join(scratch.path, 'gate-open');
    const stream = await client.invokeStream('gated', { gate });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(text(first.value as Uint8Array)).toBe('first');
    // The handler waits for this file before it writes again and ends: the stream cannot be over.
    expect(existsSync(gate)).toBe(false);
    writeFileSync(gate, '');
    const rest: string[] = [];
    for (let step = await iterator.next(); !step.done; step = await iterator.next())
      rest.push(text(step.value));
    expect(rest.join('')).toBe('second');
    const completion = await stream.completion;
    expect(completion).toMatchObject({ outcome: 'success', size: 'firstsecond'.length });
    expect(completion.functionError).toBeUndefined();
    expect(stream.requestId).toBe(completion.requestId);
    expect(completion.logs.join('\n')).toContain(`START RequestId: ${completion.requestId}`);
  });

  it('delivers chunks in order and reports success', async () => {
    const stream = await client.invokeStream('chunks', { chunks: ['a', 'b', 'c'] });
    const { body, completion } = await stream.collect();
    expect(text(body)).toBe('abc');
    expect(stream.contentType).toBe('application/octet-stream');
    expect(completion.outcome).toBe('success');
  });

  it('reports an error thrown midway after the bytes already written, and reuses the instance', async () => {
    const stream = await client.invokeStream('fails-midway');
    const { body, completion } = await stream.collect();
    expect(text(body)).toBe('part1');
    expect(completion).toMatchObject({
      functionError: 'Unhandled',
      outcome: 'handled',
      error: { errorType: 'TypeError', errorMessage: 'stream broke midway' },
    });
    const again = await (await client.invokeStream('fails-midway')).collect();
    expect(again.completion.instanceId).toBe(completion.instanceId);
    expect(again.completion.coldStart).toBe(false);
  });

  it('parses the HTTP-integration prelude (status, headers, cookies) off the body', async () => {
    const stream = await client.invokeStream('http');
    expect(stream.contentType).toBe('application/vnd.awslambda.http-integration-response');
    expect(stream.http).toEqual({
      statusCode: 201,
      headers: { 'x-custom': 'yes', 'content-type': 'text/plain' },
      cookies: ['a=1'],
    });
    const { body } = await stream.collect();
    expect(text(body)).toBe('created');
  });

  it('streams a function that does not stream as one chunk, and its error as the completion', async () => {
    const ok = await (await client.invokeStream('buffered', { n: 1 })).collect();
    expect(JSON.parse(text(ok.body))).toEqual({ buffered: true, event: { n: 1 } });
    const failed = await (await client.invokeStream('buffered-fails')).collect();
    expect(failed.body.length).toBe(0);
    expect(failed.completion).toMatchObject({
      functionError: 'Unhandled',
      error: { errorType: 'RangeError', errorMessage: 'buffered failure' },
    });
  });

  it('cuts a response at 20 MiB with Function.ResponseSizeTooLarge, then serves the next call warm', async () => {
    const stream = await client.invokeStream('big', { megabytes: 21 });
    const { body, completion } = await stream.collect();
    expect(body.length).toBe(20 * MiB);
    expect(completion).toMatchObject({
      functionError: 'Unhandled',
      outcome: 'oversized',
      error: { errorType: 'Function.ResponseSizeTooLarge' },
    });
    expect(completion.error?.errorMessage).toContain(`${20 * MiB} bytes`);
    const next = await (await client.invokeStream('big', { megabytes: 1 })).collect();
    expect(next.body.length).toBe(MiB);
    expect(next.completion).toMatchObject({ outcome: 'success', instanceId: completion.instanceId });
  });

  it('ends a stream that outlives the function timeout with Sandbox.Timedout, after its bytes', async () => {
    const { body, completion } = await (await client.invokeStream('hangs')).collect();
    expect(text(body)).toBe('partial');
    expect(completion).toMatchObject({
      functionError: 'Unhandled',
      outcome: 'timeout',
      error: { errorType: 'Sandbox.Timedout' },
    });
    expect(completion.error?.errorMessage).toContain('Task timed out after 1.00 seconds');
  });

  it('rejects the completion of a stream left early, and the next call still works', async () => {
    const stream: InvokeStreamResult = await client.invokeStream('big', { megabytes: 8 });
    for await (const _chunk of stream) break;
    await expect(stream.completion).rejects.toMatchObject({ code: 'LTK_STREAM_ABANDONED' });
    const next = await (await client.invokeStream('chunks')).collect();
    expect(text(next.body)).toBe('hello stream');
  });
});

describe('@aws-sdk/client-lambda InvokeWithResponseStreamCommand against the pool server', () => {
  async function events(out: InvokeWithResponseStreamCommandOutput) {
    const chunks: string[] = [];
    let complete: InvokeWithResponseStreamCompleteEvent | undefined;
    for await (const event of out.EventStream ?? []) {
      if (event.PayloadChunk?.Payload) chunks.push(text(event.PayloadChunk.Payload));
      if (event.InvokeComplete) complete = event.InvokeComplete;
    }
    return { chunks, complete };
  }

  it('streams PayloadChunk events, then InvokeComplete with the log tail', async () => {
    const out = await sdk.send(
      new InvokeWithResponseStreamCommand({
        FunctionName: 'chunks',
        Payload: JSON.stringify({ chunks: ['one', 'two', 'three'], pauseMs: 20 }),
        LogType: 'Tail',
      }),
    );
    expect(out.StatusCode).toBe(200);
    expect(out.ExecutedVersion).toBe('$LATEST');
    expect(out.ResponseStreamContentType).toBe('application/octet-stream');
    const requestId = out.$metadata.requestId;
    expect(requestId).toMatch(/\S{8,}/);
    const { chunks, complete } = await events(out);
    expect(chunks.join('')).toBe('onetwothree');
    expect(chunks.length).toBeGreaterThan(1);
    expect(complete?.ErrorCode).toBeUndefined();
    const log = Buffer.from(String(complete?.LogResult ?? ''), 'base64').toString('utf8');
    expect(log).toContain(`START RequestId: ${requestId}`);
    expect(log).toContain(`REPORT RequestId: ${requestId}`);
  });

  it('reports a mid-stream error in InvokeComplete ErrorCode/ErrorDetails', async () => {
    const out = await sdk.send(new InvokeWithResponseStreamCommand({ FunctionName: 'fails-midway' }));
    const { chunks, complete } = await events(out);
    expect(chunks.join('')).toBe('part1');
    expect(complete).toMatchObject({ ErrorCode: 'TypeError', ErrorDetails: 'stream broke midway' });
  });

  it('gives the HTTP-integration content type and prelude bytes unchanged', async () => {
    const out = await sdk.send(new InvokeWithResponseStreamCommand({ FunctionName: 'http' }));
    expect(out.ResponseStreamContentType).toBe('application/vnd.awslambda.http-integration-response');
    const { chunks } = await events(out);
    const raw = chunks.join('');
    const [prelude, body] = raw.split('\0'.repeat(8));
    expect(JSON.parse(prelude ?? '')).toMatchObject({ statusCode: 201, cookies: ['a=1'] });
    expect(body).toBe('created');
  });

  it('answers ResourceNotFoundException for an unknown function', async () => {
    await expect(
      sdk.send(new InvokeWithResponseStreamCommand({ FunctionName: 'nope' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
