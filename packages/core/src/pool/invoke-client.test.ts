import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { DirectInvokeRequest, DirectInvoker } from '../backend.ts';
import { INVOKE_SECRET_HEADER, RIE_INVOKE_PATH } from '../emulator/protocol.ts';
import { FakeRie } from '../testing/index.ts';
import { InstanceClient } from './invoke-client.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function fake(handler?: ConstructorParameters<typeof FakeRie>[0]) {
  const rie = new FakeRie(handler);
  const endpoint = await rie.start();
  cleanup.push(() => rie.close());
  return { rie, endpoint };
}

function client(endpoint: string, timeoutMs = 5_000) {
  const c = new InstanceClient(endpoint, { timeoutMs });
  cleanup.push(() => c.destroy());
  return c;
}

/** A free port nobody listens on. */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('InstanceClient', () => {
  it('posts to the RIE route and returns status and body', async () => {
    const { rie, endpoint } = await fake({
      handler: (r) => ({ status: 200, body: { got: r.event, ctx: r.clientContext } }),
    });
    const attempt = await client(endpoint).invoke({ payload: Buffer.from('{"a":1}'), clientContext: 'e30=' });
    expect(attempt).toMatchObject({ ok: true, statusCode: 200 });
    expect(attempt.ok && JSON.parse(attempt.body.toString())).toEqual({ got: { a: 1 }, ctx: 'e30=' });
    expect(rie.calls).toBe(1);
    expect(RIE_INVOKE_PATH).toBe('/2015-03-31/functions/function/invocations');
  });

  it("sends the instance's invoke secret on every call, and no such header without one", async () => {
    const seen: (string | string[] | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers[INVOKE_SECRET_HEADER]);
      req.resume();
      req.on('end', () => res.end('"ok"'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(() => r())));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const withSecret = new InstanceClient(endpoint, { timeoutMs: 5_000, invokeSecret: 'per-instance' });
    cleanup.push(() => withSecret.destroy());
    for (let i = 0; i < 2; i++)
      expect((await withSecret.invoke({ payload: Buffer.from('1') })).ok).toBe(true);
    expect((await client(endpoint).invoke({ payload: Buffer.from('1') })).ok).toBe(true);
    expect(seen).toEqual(['per-instance', 'per-instance', undefined]);
  });

  it('keeps one connection across calls', async () => {
    let connections = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('"ok"'));
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(() => r())));
    const c = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    for (let i = 0; i < 5; i++) expect((await c.invoke({ payload: Buffer.from('1') })).ok).toBe(true);
    expect(connections).toBe(1);
  });

  it('reports a refused connection as a failure before any byte was written', async () => {
    const port = await closedPort();
    const attempt = await client(`http://127.0.0.1:${port}`).invoke({ payload: Buffer.from('1') });
    expect(attempt.ok).toBe(false);
    if (attempt.ok) return;
    expect(attempt.requestWritten).toBe(false);
    expect(attempt.timedOut).toBe(false);
    expect((attempt.cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('reports a connection cut mid-response as a failure after the write', async () => {
    const { endpoint } = await fake({ handler: () => ({ drop: 'mid-response', body: 'x'.repeat(100) }) });
    const attempt = await client(endpoint).invoke({ payload: Buffer.from('1') });
    expect(attempt).toMatchObject({ ok: false, requestWritten: true, timedOut: false });
  });

  it('reports a connection cut before the request was read as a failure after the write', async () => {
    const { rie, endpoint } = await fake();
    rie.dropNextBeforeRead();
    const attempt = await client(endpoint).invoke({ payload: Buffer.from('1') });
    expect(attempt).toMatchObject({ ok: false, requestWritten: true });
  });

  it('times out when no answer comes within the limit', async () => {
    const { endpoint } = await fake({ handler: () => new Promise(() => {}) });
    const attempt = await client(endpoint, 50).invoke({ payload: Buffer.from('1') });
    expect(attempt).toMatchObject({ ok: false, requestWritten: true, timedOut: true });
  });

  it('settles an in-flight call when destroyed', async () => {
    const { endpoint } = await fake({ handler: () => new Promise(() => {}) });
    const c = client(endpoint);
    const pending = c.invoke({ payload: Buffer.from('1') });
    await new Promise((r) => setTimeout(r, 20));
    await c.destroy();
    expect(await pending).toMatchObject({ ok: false, requestWritten: true, timedOut: false });
  });
});

describe('InstanceClient with a direct invoker (an instance in this process)', () => {
  /** A direct invoker that records its requests and answers with `answer` (never, when it returns undefined). */
  function directInvoker(
    answer: (r: DirectInvokeRequest) => Buffer | undefined = (r) => Buffer.from(r.payload),
  ) {
    const requests: DirectInvokeRequest[] = [];
    const direct: DirectInvoker = {
      invoke: (r) => {
        requests.push(r);
        const body = answer(r);
        return body === undefined
          ? new Promise(() => {})
          : Promise.resolve({
              statusCode: 200,
              headers: { 'content-type': 'text/plain; charset=utf-8' },
              body,
            });
      },
    };
    return { direct, requests };
  }

  function directClient(endpoint: string, direct: DirectInvoker, timeoutMs = 5_000) {
    const c = new InstanceClient(endpoint, { timeoutMs, invokeSecret: 'secret', direct });
    cleanup.push(() => c.destroy());
    return c;
  }

  it('sends buffered invokes to the direct invoker, not over HTTP, with every field of the request', async () => {
    const { rie, endpoint } = await fake();
    const { direct, requests } = directInvoker();
    const request = {
      payload: Buffer.from('{"a":1}'),
      clientContext: 'e30=',
      traceId: 'Root=1-00000000-000000000000000000000000',
      qualifier: 'live',
      requestId: 'rid-1',
    };
    const attempt = await directClient(endpoint, direct).invoke(request);
    expect(attempt).toEqual({ ok: true, statusCode: 200, body: Buffer.from('{"a":1}') });
    expect(requests).toEqual([request]);
    expect(rie.calls).toBe(0);
  });

  it('still streams over HTTP', async () => {
    const { endpoint } = await fake();
    const { direct, requests } = directInvoker();
    const attempt = await directClient(endpoint, direct).invokeStream({ payload: Buffer.from('1') });
    // FakeRie has no streaming route: its 404 shows the request went over HTTP.
    expect(attempt).toMatchObject({ ok: true, statusCode: 404 });
    if (attempt.ok) attempt.body.resume();
    expect(requests).toEqual([]);
  });

  it('times out after timeoutMs plus extraTimeoutMs, as the HTTP path does', async () => {
    const { endpoint } = await fake();
    const { direct } = directInvoker(() => undefined);
    const c = directClient(endpoint, direct, 50);
    const started = performance.now();
    const attempt = await c.invoke({ payload: Buffer.from('1'), extraTimeoutMs: 100 });
    expect(attempt).toMatchObject({ ok: false, requestWritten: true, timedOut: true });
    // Timers never fire early; the extra time is waited for.
    expect(performance.now() - started).toBeGreaterThanOrEqual(149);
  });

  it('settles an in-flight call when destroyed, and refuses calls after', async () => {
    const { endpoint } = await fake();
    const { direct, requests } = directInvoker(() => undefined);
    const c = directClient(endpoint, direct);
    const pending = c.invoke({ payload: Buffer.from('1') });
    await c.destroy();
    expect(await pending).toMatchObject({ ok: false, requestWritten: true, timedOut: false });
    expect(await c.invoke({ payload: Buffer.from('2') })).toMatchObject({ ok: false, requestWritten: false });
    expect(requests).toHaveLength(1);
  });

  it('refuses a header value HTTP could not carry before the instance sees it, as undici does', async () => {
    const { endpoint } = await fake();
    const { direct, requests } = directInvoker();
    const viaDirect = await directClient(endpoint, direct).invoke({
      payload: Buffer.from('1'),
      traceId: 'a\u0001b',
    });
    const viaHttp = await client(endpoint).invoke({ payload: Buffer.from('1'), traceId: 'a\u0001b' });
    expect(viaDirect).toMatchObject({ ok: false, requestWritten: false, timedOut: false });
    expect(viaHttp).toMatchObject({ ok: false, requestWritten: false, timedOut: false });
    expect(requests).toEqual([]);
  });
});

describe('FakeRie', () => {
  it('records the peak of overlapping requests (so a peak of 1 in pool tests means something)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { rie, endpoint } = await fake({
      handler: async (r) => {
        await gate;
        return { body: r.body };
      },
    });
    const a = client(endpoint);
    const b = client(endpoint);
    const calls = [a.invoke({ payload: Buffer.from('1') }), b.invoke({ payload: Buffer.from('2') })];
    while (rie.inFlight < 2) await new Promise((r) => setTimeout(r, 5));
    release();
    await Promise.all(calls);
    expect(rie.peakConcurrency).toBe(2);
  });
});
