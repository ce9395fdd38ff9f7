import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
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
