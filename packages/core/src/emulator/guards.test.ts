/**
 * The attacks of a local process on one emulator (docs/security.md#instances-and-the-runtime-api):
 * taking events or forging answers on the Runtime API, invoking without the instance's secret, and
 * holding the sandbox with a slow or endless request.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from './emulator.ts';
import { MAX_PAYLOAD_BYTES, RIE_INVOKE_PATH } from './protocol.ts';

const fixtures = join(import.meta.dirname, '__fixtures__');
const scratch = mkdtempSync(join(tmpdir(), 'ltk-guards-'));
const env = { LAMBDA_TASK_ROOT: fixtures, AWS_LAMBDA_FUNCTION_TIMEOUT: '30', PATH: process.env.PATH ?? '' };

function quiet() {
  const sink = () => new PassThrough().resume();
  return { stdout: sink(), stderr: sink() };
}

let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function start(options: Partial<EmulatorOptions> = {}): Promise<RunningEmulator> {
  emulator = await startEmulator({
    handler: 'guard-handler.handler',
    port: 0,
    env,
    output: quiet(),
    ...options,
  });
  return emulator;
}

async function invoke(body: unknown, headers: Record<string, string> = {}, method = 'POST') {
  const res = await fetch(`${emulator!.url}${RIE_INVOKE_PATH}`, {
    method,
    headers,
    ...(method === 'GET' ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, text: await res.text() };
}

/** Polls for a file the handler writes (bounded: the invocation may take a cold start first). */
async function fileContent(path: string, timeoutMs = 10_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path) || readFileSync(path, 'utf8') === '') {
    if (Date.now() > until) throw new Error(`${path} was never written`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return readFileSync(path, 'utf8');
}

/**
 * A raw connection to the invoke port: `answer` resolves with what the server wrote once it holds a
 * whole answer (headers and the declared body), `closed` with everything once the connection closed.
 */
function rawConnection(port: number): { socket: Socket; closed: Promise<string>; answer: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  let onAnswer: (text: string) => void = () => {};
  const answer = new Promise<string>((resolve) => {
    onAnswer = resolve;
  });
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    const end = received.indexOf('\r\n\r\n');
    const length = /content-length: (\d+)/i.exec(received)?.[1];
    if (end >= 0 && length !== undefined && received.length >= end + 4 + Number(length)) onAnswer(received);
  });
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  return { socket, closed, answer };
}

// Which process holds a socket is read from /proc (runtime-peer.ts): Linux only. Elsewhere the
// emulator falls back to refusing a second /next, which runtime-api.test.ts covers on every system.
describe.runIf(process.platform === 'linux')('Runtime API: only the runtime the emulator started', () => {
  test('a second /next from another process is refused; the runtime keeps getting the events', async () => {
    const running = await start();
    expect((await invoke({})).status).toBe(200); // the runtime now waits on /next
    const stolen = await fetch(
      `http://127.0.0.1:${running.runtimeApiPort}/2018-06-01/runtime/invocation/next`,
      {
        signal: AbortSignal.timeout(10_000),
      },
    );
    expect(stolen.status).toBe(403);
    expect(await stolen.json()).toMatchObject({ errorType: 'AccessDenied' });
    const after = await invoke({ again: true });
    expect(after).toEqual({ status: 200, text: '{"genuine":true,"secretSeen":null}' });
  });

  test('a response forged by another process for the request id in flight is refused', async () => {
    const running = await start();
    const idFile = join(scratch, 'forged-id');
    const pending = invoke({ idFile, ms: 1_000 });
    const requestId = await fileContent(idFile);
    const forged = await fetch(
      `http://127.0.0.1:${running.runtimeApiPort}/2018-06-01/runtime/invocation/${requestId}/response`,
      { method: 'POST', body: '{"hijacked":true}' },
    );
    expect(forged.status).toBe(403);
    expect(await pending).toEqual({ status: 200, text: '{"genuine":true,"secretSeen":null}' });
  });
});

describe('invoke secret', () => {
  test('without the secret, with a wrong one, or by GET: 403 before anything runs', async () => {
    await start({ env: { ...env, LAMBDA_TESTKIT_INVOKE_SECRET: 'per-instance-secret' } });
    const denied = [
      await invoke({}),
      await invoke({}, { 'x-lambda-testkit-invoke-secret': 'guessed' }),
      // Same length, one byte off; a prefix; the secret and more.
      await invoke({}, { 'x-lambda-testkit-invoke-secret': 'per-instance-secreT' }),
      await invoke({}, { 'x-lambda-testkit-invoke-secret': 'per-instance-secre' }),
      await invoke({}, { 'x-lambda-testkit-invoke-secret': 'per-instance-secret2' }),
      await invoke(undefined, {}, 'GET'),
      await invoke({}, { Origin: 'http://evil.example', Host: 'localhost' }),
    ];
    for (const answer of denied) {
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.text)).toMatchObject({ errorType: 'AccessDenied' });
    }
    // With it: the call runs, and the handler's environment does not hold the secret.
    const allowed = await invoke({}, { 'x-lambda-testkit-invoke-secret': 'per-instance-secret' });
    expect(allowed).toEqual({ status: 200, text: '{"genuine":true,"secretSeen":null}' });
  });

  test('lambda profile: 403 AccessDeniedException', async () => {
    const running = await start({ profile: 'lambda', invokeSecret: 'per-instance-secret' });
    const res = await fetch(`${running.url}/2015-03-31/functions/function/invocations`, {
      method: 'POST',
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
    await res.arrayBuffer();
  });
});

describe('slow, stalled and endless requests', () => {
  test('a sender dripping its body holds its own connection, not the sandbox, and is cut at the request timeout', async () => {
    const running = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const slow = rawConnection(running.port);
    // `100 Continue` comes back once the emulator has the headers: only then is the race set up.
    const headersIn = new Promise<void>((resolve) =>
      slow.socket.on('data', (chunk: Buffer) => {
        if (chunk.toString('latin1').includes(' 100 ')) resolve();
      }),
    );
    slow.socket.write(
      `POST ${RIE_INVOKE_PATH} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n`,
    );
    await headersIn;
    slow.socket.write('{');
    const drip = setInterval(() => slow.socket.write(' '), 50);
    try {
      // The body is far from complete: the sandbox is free for everyone else.
      expect(await invoke({ meanwhile: true })).toEqual({
        status: 200,
        text: '{"genuine":true,"secretSeen":null}',
      });
      expect(await slow.closed).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 408 /);
    } finally {
      clearInterval(drip);
    }
  });

  test('an idle connection and one dripping headers are closed after the headers timeout', async () => {
    const running = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const idle = rawConnection(running.port);
    const dripping = rawConnection(running.port);
    dripping.socket.write(`POST ${RIE_INVOKE_PATH} HTTP/1.1\r\nHost: x\r\n`);
    const drip = setInterval(() => dripping.socket.write('X-Slow: 1\r\n'), 50);
    try {
      const startedAt = Date.now();
      const [idleText, drippingText] = await Promise.all([idle.closed, dripping.closed]);
      expect(idleText).toMatch(/^HTTP\/1\.1 408 /);
      expect(drippingText).toMatch(/^HTTP\/1\.1 408 /);
      // Well before Node's defaults (60 s for headers, 300 s for a request).
      expect(Date.now() - startedAt).toBeLessThan(10_000);
    } finally {
      clearInterval(drip);
    }
  });

  test('an endless chunked body: 413 after the limit, while the sender is still sending, then the connection is cut', async () => {
    const running = await start();
    const endless = rawConnection(running.port);
    endless.socket.write(`POST ${RIE_INVOKE_PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = Buffer.alloc(256 * 1024, 'x');
    const frame = Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from('\r\n'),
    ]);
    let sent = 0;
    let answered = false;
    void endless.answer.then(() => {
      answered = true;
    });
    // Never the last chunk: the emulator must answer without the end of the body.
    while (!endless.socket.destroyed && sent < 256 * 1024 * 1024) {
      if (!endless.socket.write(frame)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            endless.socket.off('drain', done);
            endless.socket.off('close', done);
            resolve();
          };
          endless.socket.once('drain', done).once('close', done);
        });
      }
      sent += chunk.length;
    }
    expect(answered).toBe(true);
    const text = await endless.closed;
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toContain(`more than ${MAX_PAYLOAD_BYTES} bytes`);
    // Cut once the limit and the bounded drain after the answer were read (plus socket buffers).
    expect(sent).toBeLessThan(MAX_PAYLOAD_BYTES + 16 * 1024 * 1024 + 32 * 1024 * 1024);
    expect((await invoke({ after: true })).status).toBe(200);
  });

  test('a declared length over the limit is refused before any of the body is read', async () => {
    const running = await start();
    const declared = rawConnection(running.port);
    declared.socket.write(`POST ${RIE_INVOKE_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 7000000\r\n\r\n`);
    const text = await declared.answer;
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    declared.socket.destroy();
    expect(text).toContain('(7000000 bytes)');
  });
});
