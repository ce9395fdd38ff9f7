// Response streaming end to end on the process backend: the pool server's InvokeWithResponseStream
// route, read by PoolClient.invokeStream and by the real @aws-sdk/client-lambda. Backpressure is
// tested hop by hop in core (src/pool/stream-backpressure.test.ts, src/server/stream-invoke.test.ts)
// and here end to end, from the handler's write() to a stalled reader: the socket buffers of the
// loopback hops can hold most of a 20 MiB response, so the test accounts for them (socket-queues.ts,
// Linux's /proc) and bounds what the processes themselves hold.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
import { queuedTcpBytes } from './socket-queues.ts';

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

  it("holds a slow reader's backlog in bounded socket buffers, not in any process, from the runtime on", async () => {
    // 19.5 MiB (under the 20 MiB limit), written in 64 KiB chunks by a handler that waits for
    // 'drain'; the reader takes one chunk and stalls. Every byte the handler has written is then
    // either read, or in a kernel TCP queue of the hops runtime → emulator → pool → pool server →
    // client (bounded by the kernel's tcp_rmem/tcp_wmem, tens of MiB on Linux: they can hold most
    // of it), or held by one of the processes. A layer that read ahead without bound would hold
    // megabytes here; with backpressure through every hop, only the streams' own buffers remain.
    const total = 19.5 * MiB;
    const progressFile = join(scratch.path, 'progress');
    const stream = await client.invokeStream('big', { megabytes: 19.5, progressFile });
    const iterator = stream[Symbol.asyncIterator]();
    let received = ((await iterator.next()).value as Uint8Array).length;
    const written = () => (existsSync(progressFile) ? Number(readFileSync(progressFile, 'utf8')) : 0);

    try {
      // Once the pipeline is well filled, until nothing moves for 1 s: neither the handler (paused in
      // write(), or done) nor any byte in the kernel's queues.
      const deadline = Date.now() + 60_000;
      const sample = () => ({ written: written(), inKernel: queuedTcpBytes() });
      let last = sample();
      let stableSince = Date.now();
      while (last.written < 4 * MiB || Date.now() - stableSince < 1_000) {
        if (Date.now() > deadline)
          throw new Error(`the handler never stalled (wrote ${last.written} bytes, ${last.inKernel} queued)`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        const now = sample();
        if (now.written !== last.written || now.inKernel !== last.inKernel) stableSince = Date.now();
        last = now;
      }
      const inProcesses = last.written - received - last.inKernel;
      expect(inProcesses).toBeLessThan(2 * MiB);
    } catch (error) {
      // Left early, so that the pool is not held by an unread stream when the run stops.
      await iterator.return?.();
      stream.completion.catch(() => {});
      throw error;
    }

    for (let step = await iterator.next(); !step.done; step = await iterator.next())
      received += step.value.length;
    expect(received).toBe(total);
    expect(await stream.completion).toMatchObject({ outcome: 'success', size: total });
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
