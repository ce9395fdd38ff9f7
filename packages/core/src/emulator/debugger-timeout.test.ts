/**
 * The emulator's inspector proxy (inspector-proxy.ts) and the function timeout of a debugged
 * runtime: held while a debugger session is open through the proxy, counting again once it closes,
 * held while a `wait` runtime waits for its first debugger; plain HTTP discovery passes through
 * without counting as a debugger.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import { type RunningEmulator, startEmulator } from './emulator.ts';
import { INIT_TIMEOUT_MS, RIE_INVOKE_PATH } from './protocol.ts';

const fixtures = new URL('./__fixtures__/', import.meta.url).pathname;

let emulator: RunningEmulator | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await emulator?.close();
  emulator = undefined;
});

/** Lines of the emulator's (and its runtime's) stderr, with a bounded wait for one that matches. */
class StderrLines {
  readonly stream = new PassThrough();
  readonly lines: string[] = [];
  readonly #wakers = new Set<() => void>();
  constructor() {
    let partial = '';
    this.stream.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const wake of this.#wakers) wake();
    });
  }
  waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (const line of this.lines) {
          const match = pattern.exec(line);
          if (match) {
            clearTimeout(timer);
            this.#wakers.delete(wake);
            resolve(match);
            return true;
          }
        }
        return false;
      };
      const wake = (): void => void check();
      const timer = setTimeout(() => {
        this.#wakers.delete(wake);
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${this.lines.join('\n')}`));
      }, timeoutMs);
      if (!check()) this.#wakers.add(wake);
    });
  }
}

async function start(options: { timeoutSeconds: number; wait?: boolean }): Promise<StderrLines> {
  const stderr = new StderrLines();
  emulator = await startEmulator({
    handler: 'guard-handler.handler',
    port: 0,
    env: {
      LAMBDA_TASK_ROOT: fixtures,
      AWS_LAMBDA_FUNCTION_TIMEOUT: String(options.timeoutSeconds),
      LAMBDA_TESTKIT_FREEZE: 'false',
      LAMBDA_TESTKIT_INSPECT: '127.0.0.1:0',
      LAMBDA_TESTKIT_INSPECT_WAIT: String(options.wait ?? false),
      PATH: process.env.PATH ?? '',
    },
    output: { stdout: new PassThrough().resume(), stderr: stderr.stream },
  });
  return stderr;
}

async function invoke(event: unknown): Promise<{ text: string; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${emulator!.url}${RIE_INVOKE_PATH}`, {
    method: 'POST',
    body: JSON.stringify(event),
  });
  return { text: await res.text(), ms: performance.now() - started };
}

const PROXY_LINE =
  /^lambda-testkit-emulator: debugger on (ws:\/\/127\.0\.0\.1:(\d+)\/[\w-]+) \(runtime pid \d+\)$/;

/** A debugger session through the proxy (what VS Code or DevTools open). */
function attach(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    sockets.push(socket);
    socket.addEventListener('open', () => resolve(socket));
    socket.addEventListener('error', () => reject(new Error(`no WebSocket connection to ${url}`)));
  });
}

function closed(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    socket.addEventListener('close', () => resolve());
    socket.close();
  });
}

describe('the function timeout of a debugged runtime', () => {
  test('applies while no debugger is attached', async () => {
    const stderr = await start({ timeoutSeconds: 1 });
    const result = await invoke({ ms: 3_000 });
    expect(result.text).toContain('Task timed out after 1.00 seconds');
    // The proxy line was printed for the runtime, and nobody attached.
    await stderr.waitFor(PROXY_LINE);
    expect(stderr.lines.some((l) => l.includes('debugger attached'))).toBe(false);
  });

  test('is held while a debugger session is open, and a slow handler completes', async () => {
    const stderr = await start({ timeoutSeconds: 1 });
    // A first call starts the runtime (and its inspector).
    expect(JSON.parse((await invoke({})).text)).toMatchObject({ genuine: true });
    const [, url] = await stderr.waitFor(PROXY_LINE);
    const session = await attach(url!);
    await stderr.waitFor(/debugger attached, the function timeout is held/);
    const result = await invoke({ ms: 2_500 });
    expect(JSON.parse(result.text)).toMatchObject({ genuine: true });
    await closed(session);
    await stderr.waitFor(/debugger detached, the function timeout counts on/);
    // Detached again: the timeout applies to the next call.
    expect((await invoke({ ms: 3_000 })).text).toContain('Task timed out after 1.00 seconds');
  });

  test('counts on after the debugger detaches mid-invocation, from where it was held', async () => {
    const stderr = await start({ timeoutSeconds: 2 });
    await invoke({});
    const [, url] = await stderr.waitFor(PROXY_LINE);
    const session = await attach(url!);
    await stderr.waitFor(/debugger attached/);
    const call = invoke({ ms: 8_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await closed(session);
    const result = await call;
    expect(result.text).toContain('Task timed out after 2.00 seconds');
    // Held 1.5 s, then 2 s of timeout: the call cannot have ended before 3.5 s (load only delays it).
    expect(result.ms).toBeGreaterThanOrEqual(3_400);
  });

  test('does not count plain HTTP discovery as a debugger; its answer names the proxy', async () => {
    const stderr = await start({ timeoutSeconds: 1 });
    await invoke({});
    const [, url, port] = await stderr.waitFor(PROXY_LINE);
    const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{
      webSocketDebuggerUrl: string;
    }>;
    expect(list.map((t) => t.webSocketDebuggerUrl)).toEqual([url]);
    expect((await invoke({ ms: 3_000 })).text).toContain('Task timed out after 1.00 seconds');
  });

  test('counts a session that upgrades on a connection first used for discovery', async () => {
    const stderr = await start({ timeoutSeconds: 1 });
    await invoke({});
    const [, url, port] = await stderr.waitFor(PROXY_LINE);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let answers = '';
    socket.on('data', (chunk: Buffer) => {
      answers += chunk.toString('latin1');
    });
    const until = async (text: string) => {
      for (let i = 0; i < 500 && !answers.includes(text); i++) await new Promise((r) => setTimeout(r, 10));
      expect(answers).toContain(text);
    };
    socket.write(`GET /json/list HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    await until('webSocketDebuggerUrl');
    expect(stderr.lines.some((l) => l.includes('debugger attached'))).toBe(false);
    socket.write(
      `GET ${new URL(url!).pathname} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await until('101 Switching Protocols');
    await stderr.waitFor(/debugger attached, the function timeout is held/);
    socket.destroy();
    await stderr.waitFor(/debugger detached/);
  });

  test('with wait, is held until the first debugger attaches, however long that takes', {
    timeout: 30_000,
  }, async () => {
    const stderr = await start({ timeoutSeconds: 1, wait: true });
    const call = invoke({});
    const [, url] = await stderr.waitFor(PROXY_LINE);
    // Longer than the init limit and the function timeout together before anyone attaches: without
    // the hold, the init limit would start the function timeout, and it would end the call.
    await new Promise((resolve) => setTimeout(resolve, INIT_TIMEOUT_MS + 1_500));
    const session = await attach(url!);
    session.send(JSON.stringify({ id: 1, method: 'Runtime.runIfWaitingForDebugger' }));
    expect(JSON.parse((await call).text)).toMatchObject({ genuine: true });
  });

  test('answers 503 before the runtime has started', async () => {
    await start({ timeoutSeconds: 1 });
    const res = await fetch(`http://127.0.0.1:${emulator!.inspectorPort}/json/list`);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/starts on the first invoke/);
  });
});
