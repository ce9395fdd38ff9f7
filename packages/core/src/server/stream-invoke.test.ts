// The InvokeWithResponseStream route of the pool server against scripted pools: the event-stream
// framing as PoolClient reads it, the request checks, and what a pool without streaming answers.
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { PoolClient } from '../client/pool-client.ts';
import { ErrorCodes, InvokeError } from '../errors.ts';
import type { StreamedInvocation, StreamedOutcome } from '../invocation.ts';
import { createRunToken } from './auth.ts';
import { PoolServer, type ServedPool } from './pool-server.ts';

const done: StreamedOutcome = {
  kind: 'handled',
  functionError: 'Unhandled',
  error: { errorType: 'TypeError', errorMessage: 'midway', trace: ['at x'] },
  requestId: 'req-9',
  coldStart: true,
  durationMs: 12,
  queuedMs: 1,
  instanceId: 'i-9',
  logs: ['START RequestId: req-9', 'REPORT RequestId: req-9'],
  traceId: 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0',
  size: 6,
};

function basePool(more: Partial<ServedPool> = {}): ServedPool {
  return {
    has: (name) => name === 'fn',
    functionNames: () => ['fn'],
    invoke: () => Promise.reject(new Error('not scripted')),
    evict: async () => 0,
    list: () => [],
    stats: () => ({}),
    ...more,
  };
}

const servers: PoolServer[] = [];
const clients: PoolClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(pool: ServedPool): Promise<{ client: PoolClient; url: string; token: string }> {
  const token = createRunToken();
  const server = new PoolServer({ pool, token });
  servers.push(server);
  const url = await server.listen();
  const client = new PoolClient({ url, token });
  clients.push(client);
  return { client, url, token };
}

describe('PoolServer: InvokeWithResponseStream', () => {
  it('frames each chunk as a PayloadChunk and the outcome as InvokeComplete', async () => {
    const seen: { name: string; payload: string; clientContext: string | undefined }[] = [];
    const { client } = await serve(
      basePool({
        invokeStream: async (name, payload, options) => {
          seen.push({
            name,
            payload: Buffer.from(payload).toString(),
            clientContext: options?.clientContext,
          });
          return {
            contentType: 'text/plain',
            requestId: 'req-9',
            body: (async function* () {
              yield Buffer.from('abc');
              yield Buffer.from('def');
            })(),
            outcome: Promise.resolve(done),
          } satisfies StreamedInvocation;
        },
      }),
    );
    const stream = await client.invokeStream('fn', { a: 1 }, { clientContext: { custom: { k: 'v' } } });
    expect(stream.contentType).toBe('text/plain');
    expect(stream.requestId).toBe('req-9');
    const parts: string[] = [];
    for await (const chunk of stream) parts.push(Buffer.from(chunk).toString());
    expect(parts).toEqual(['abc', 'def']);
    expect(await stream.completion).toEqual({
      functionError: 'Unhandled',
      error: { errorType: 'TypeError', errorMessage: 'midway', trace: ['at x'] },
      logs: done.logs,
      requestId: 'req-9',
      coldStart: true,
      durationMs: 12,
      queuedMs: 1,
      instanceId: 'i-9',
      outcome: 'handled',
      size: 6,
    });
    expect(seen).toEqual([{ name: 'fn', payload: '{"a":1}', clientContext: expect.any(String) }]);
  });

  it('revives a failure of the call itself (after the start) from InvokeComplete', async () => {
    const { client } = await serve(
      basePool({
        invokeStream: async () => ({
          contentType: 'application/octet-stream',
          body: (async function* () {
            yield Buffer.from('x');
          })(),
          outcome: Promise.reject(new InvokeError(ErrorCodes.INSTANCE_LOST, 'instance went away')),
        }),
      }),
    );
    const stream = await client.invokeStream('fn');
    await expect(stream.collect()).rejects.toMatchObject({ code: ErrorCodes.INSTANCE_LOST });
  });

  it('refuses Event invocations, and answers 501 for a pool without invokeStream', async () => {
    const { url, token } = await serve(basePool());
    const post = (headers: Record<string, string>) =>
      request(`${url}/2021-11-15/functions/fn/response-streaming-invocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, ...headers },
        body: '{}',
      });
    const event = await post({ 'x-amz-invocation-type': 'Event' });
    expect(event.statusCode).toBe(400);
    expect(event.headers['x-amzn-errortype']).toBe('InvalidParameterValueException');
    await event.body.dump();
    const noStreaming = await post({});
    expect(noStreaming.statusCode).toBe(501);
    expect(await noStreaming.body.text()).toContain('invokeStream');
  });

  it('checks the token and the function as Invoke does', async () => {
    const { url } = await serve(basePool());
    const res = await request(`${url}/2021-11-15/functions/fn/response-streaming-invocations`, {
      method: 'POST',
      body: '{}',
    });
    expect(res.statusCode).toBe(401);
    await res.body.dump();
    const { client } = await serve(basePool());
    await expect(client.invokeStream('other')).rejects.toMatchObject({ code: ErrorCodes.UNKNOWN_FUNCTION });
  });
});

describe('PoolServer: InvokeWithResponseStream backpressure', () => {
  it('pulls from the pool only as fast as the client reads', async () => {
    const MiB = 1024 * 1024;
    const total = 96 * MiB;
    let pulled = 0;
    const { client } = await serve(
      basePool({
        invokeStream: async () => ({
          contentType: 'application/octet-stream',
          body: (async function* () {
            const chunk = Buffer.alloc(64 * 1024, 'y');
            while (pulled < total) {
              pulled += chunk.length;
              yield chunk;
            }
          })(),
          outcome: Promise.resolve({ ...done, kind: 'success', functionError: undefined, error: undefined }),
        }),
      }),
    );
    const stream = await client.invokeStream('fn');
    const iterator = stream[Symbol.asyncIterator]();
    let received = ((await iterator.next()).value as Uint8Array).length;
    // The client stalls: the server must stop pulling once the socket buffers between are full.
    let last = -1;
    let stableSince = Date.now();
    const deadline = Date.now() + 20_000;
    while (Date.now() - stableSince < 500) {
      if (Date.now() > deadline) throw new Error(`the server never stopped pulling (${pulled} bytes)`);
      if (pulled !== last) {
        last = pulled;
        stableSince = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(pulled).toBeLessThan(total / 2);
    for (let step = await iterator.next(); !step.done; step = await iterator.next())
      received += step.value.length;
    expect(received).toBe(total);
    expect((await stream.completion).outcome).toBe('success');
  });
});
