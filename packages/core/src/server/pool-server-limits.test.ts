// The pool server under hostile or careless callers (issue 18): each test is one attack of the
// black-box probe, replayed over raw sockets where an HTTP client would hide it.
import { connect, type Socket } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvocationOutcome, InvokeOptions } from '../invocation.ts';
import { WarmPool } from '../pool/warm-pool.ts';
import { FakeBackend, resolvedFunction } from '../testing/index.ts';
import { createRunToken } from './auth.ts';
import { PoolServer, type ServedPool } from './pool-server.ts';

/** Answers with the event; a call to `held` waits until `release()` (calls are recorded on arrival). */
class GatedPool implements ServedPool {
  calls: { name: string; payload: string; options?: InvokeOptions }[] = [];
  #open!: () => void;
  #gate = new Promise<void>((resolve) => {
    this.#open = resolve;
  });
  has(name: string) {
    return name === 'echo' || name === 'held';
  }
  /** `echo:live` must name a declared alias (an unknown one is ResourceNotFoundException). */
  getFunction(name: string) {
    return name === 'echo' ? { functionAliases: { live: '2' } } : undefined;
  }
  functionNames() {
    return ['echo', 'held'];
  }
  async invoke(name: string, payload: Uint8Array, options?: InvokeOptions): Promise<InvocationOutcome> {
    const text = Buffer.from(payload).toString('utf8');
    this.calls.push({ name, payload: text, options });
    if (name === 'held') await this.#gate;
    return {
      kind: 'success',
      payload: Buffer.from(text),
      json: JSON.parse(text),
      requestId: 'r',
      traceId: 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0',
      coldStart: false,
      durationMs: 1,
      queuedMs: 0,
      instanceId: 'i',
      logs: [],
    };
  }
  release() {
    this.#open();
  }
  async evict() {
    return 0;
  }
  list() {
    return [];
  }
  stats() {
    return {};
  }
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Reads one HTTP answer off a socket (resolves with `undefined` when the server closes without one). */
function answerOf(socket: Socket): Promise<RawAnswer | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const done = (answer: RawAnswer | undefined) => {
      socket.off('data', onData);
      resolve(answer);
    };
    const onData = (d: Buffer) => {
      text += d.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine = '', ...rest] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of rest) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      if (Buffer.byteLength(text) - end - 4 < Number(headers['content-length'] ?? 0)) return;
      done({ status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4) });
    };
    socket.on('data', onData);
    // A reset after the answer is the server cutting a body it will not read: not this helper's business.
    socket.on('error', () => done(undefined));
    socket.once('close', () => done(undefined));
  });
}

function open(base: string): Socket {
  return connect(Number(new URL(base).port), '127.0.0.1');
}

const token = createRunToken();
const pool = new GatedPool();
const logs: string[] = [];
let server: PoolServer;
let url: string;

beforeAll(async () => {
  server = new PoolServer({ pool, token, log: (line) => logs.push(line) });
  url = await server.listen();
});
afterAll(async () => {
  pool.release();
  await server.close();
});

function invoke(name: string, body: string, headers: Record<string, string> = {}) {
  return request(`${url}/2015-03-31/functions/${name}/invocations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...headers },
    body,
  });
}

describe('PoolServer before authentication', () => {
  it('answers 401 from the headers alone: a declared body that never comes does not hold the request', async () => {
    // Before: the body was drained before answering, so this waited for Node's 300 s request timeout.
    const socket = open(url);
    const answer = answerOf(socket);
    socket.write(
      'POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 5000\r\n\r\n{',
    );
    const got = await answer;
    socket.destroy();
    expect(got?.status).toBe(401);
    expect(got?.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
    expect(got?.headers.connection).toBe('close');
  }, 10_000);

  it('reads about a MiB of an endless chunked body without the token, then answers and cuts', async () => {
    // Before: up to 64 MB was read and dropped before the 403.
    const socket = open(url);
    const answer = answerOf(socket);
    socket.write(
      'POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nhost: 127.0.0.1\r\n' +
        'authorization: Bearer not-the-token\r\ntransfer-encoding: chunked\r\n\r\n',
    );
    const chunk = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 'x'), Buffer.from('\r\n')]);
    let sent = 0;
    let answeredAfter: number | undefined;
    const pacer = setInterval(() => {
      // Paced rather than as fast as possible, so that "sent" is not mostly sitting in socket buffers.
      if (socket.destroyed || sent >= 32 * 1024 * 1024) return;
      socket.write(chunk, () => {});
      sent += 0x10000;
    }, 2);
    const got = await answer.then((a) => {
      answeredAfter = sent;
      return a;
    });
    clearInterval(pacer);
    socket.destroy();
    expect(got?.status).toBe(403);
    expect(answeredAfter).toBeLessThan(8 * 1024 * 1024);
    // The server is fine afterwards.
    expect((await (await invoke('echo', '{"after":1}')).body.json()) as unknown).toEqual({ after: 1 });
  }, 20_000);

  it('closes a connection whose headers never finish, well before Node’s 60 s default', async () => {
    const socket = open(url);
    const closed = new Promise<number>((resolve) => {
      const started = Date.now();
      socket.on('error', () => {});
      socket.once('close', () => resolve(Date.now() - started));
    });
    socket.resume(); // 'close' comes only once whatever the server sent (a 408) is read
    socket.write('POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: 1');
    // headersTimeout 10 s, checked every second.
    expect(await closed).toBeLessThan(15_000);
  }, 30_000);
});

describe('PoolServer input checks', () => {
  it('normalises a client context the instance would refuse (unpadded, multi-line) and refuses the rest with 400', async () => {
    const text = '{\n  "custom": { "a": 12 }\n}';
    const unpadded = Buffer.from(text).toString('base64').replace(/=+$/, '');
    const res = await invoke('echo', '{}', { 'x-amz-client-context': unpadded });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const forwarded = pool.calls.at(-1)?.options?.clientContext ?? '';
    // What the instance accepts: strict padded base64 of single-line JSON (emulator/invoke-server.ts).
    expect(forwarded).toMatch(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
    expect(Buffer.from(forwarded, 'base64').toString()).toBe('{"custom":{"a":12}}');

    const before = pool.calls.length;
    const bad = await invoke('echo', '{}', { 'x-amz-client-context': 'eyJhIjoxf' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['x-amzn-errortype']).toBe('InvalidParameterValueException');
    expect(((await bad.body.json()) as { message: string }).message).toMatch(
      /X-Amz-Client-Context must be base64/,
    );
    expect(pool.calls.length).toBe(before);
  });

  it('refuses a name qualifier that contradicts ?Qualifier= with 400, as Lambda does', async () => {
    const res = await request(`${url}/2015-03-31/functions/echo%3Alive/invocations?Qualifier=2`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: '{}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['x-amzn-errortype']).toBe('InvalidParameterValueException');
    expect(((await res.body.json()) as { message: string }).message).toMatch(
      /does not match the specified qualifier/,
    );
    const same = await request(`${url}/2015-03-31/functions/echo%3Alive/invocations?Qualifier=live`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: '{"same":1}',
    });
    expect(same.statusCode).toBe(200);
    expect(await same.body.json()).toEqual({ same: 1 });
  });

  it('answers a malformed percent-escape in a control route with 400, not 500', async () => {
    const res = await request(`${url}/_testkit/functions/ord%E0%A4%A/evict`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['x-amzn-errortype']).toBe('InvalidParameterValueException');
    expect(((await res.body.json()) as { message: string }).message).toMatch(/malformed percent-escape/);
  });
});

describe('PoolServer body budget', () => {
  it('holds a call whose body does not fit until an earlier call gives its bytes back', async () => {
    const gated = new GatedPool();
    await using small = new PoolServer({ pool: gated, token, maxBufferedBodyBytes: 100, log: () => {} });
    const base = await small.listen();
    const call = (name: string, body: string) =>
      request(`${base}/2015-03-31/functions/${name}/invocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body,
      });
    const first = call('held', JSON.stringify({ pad: 'x'.repeat(60) }));
    await expect.poll(() => gated.calls.length).toBe(1);
    const second = call('echo', JSON.stringify({ pad: 'y'.repeat(60) }));
    // The second body (71 bytes) does not fit next to the first (71 of 100): it is not even read.
    // (Before the budget, it reached the pool at once.)
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(gated.calls.map((c) => c.name)).toEqual(['held']);
    gated.release();
    expect((await first).statusCode).toBe(200);
    const answer = await second;
    expect(answer.statusCode).toBe(200);
    expect(await answer.body.json()).toEqual({ pad: 'y'.repeat(60) });
  });
});

describe('PoolServer teardown with queued Event invocations', () => {
  function eventServer(closeGraceMs?: number) {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let started = 0;
    const backend = new FakeBackend({
      handler: () => async (r) => {
        started++;
        await gate;
        return { body: r.body };
      },
    });
    const warm = new WarmPool({ backend, logWaitMs: 0, maxConcurrency: 2 });
    warm.register(resolvedFunction({ name: 'orders' }));
    const lines: string[] = [];
    const events = new PoolServer({ pool: warm, token, log: (l) => lines.push(l), closeGraceMs });
    return { warm, events, lines, open, started: () => started };
  }

  async function queueEvents(base: string, count: number) {
    for (let i = 0; i < count; i++) {
      const res = await request(`${base}/2015-03-31/functions/orders/invocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'x-amz-invocation-type': 'Event' },
        body: JSON.stringify({ i }),
      });
      expect(res.statusCode).toBe(202);
      await res.body.dump();
    }
  }

  it('cancels the queued ones, lets the running ones finish, and says so', async () => {
    const { warm, events, lines, open, started } = eventServer();
    try {
      await queueEvents(await events.listen(), 80);
      await expect.poll(started).toBe(2);
      const closing = events.close();
      open();
      await closing;
      // Before: all 80 ran one after another before close() resolved.
      expect(started()).toBe(2);
      expect(warm.stats().orders?.invocations).toBe(2);
      expect(lines).toContain(
        'lambda-testkit: teardown cancelled 78 queued Event invocation(s) that had not started.',
      );
      expect(lines.filter((l) => l.includes('failed'))).toEqual([]);
    } finally {
      await warm.stopAll();
    }
  });

  it('waits for running ones only up to closeGraceMs, then leaves them to the pool’s stop', async () => {
    const { warm, events, lines, open, started } = eventServer(100);
    try {
      await queueEvents(await events.listen(), 5);
      await expect.poll(started).toBe(2);
      // Before: close() waited for calls that never end here.
      await events.close();
      expect(lines).toContain(
        'lambda-testkit: teardown left 2 Event invocation(s) running after 100 ms; stopping the pool ends them.',
      );
    } finally {
      open();
      await warm.stopAll();
    }
  });
});
