// The sandbox lifecycle end to end, through the pool server with the real @aws-sdk/client-lambda, on
// both backends (Docker with the locally built image; it FAILS when no engine answers, never skips):
// init has its own clock, a leftover timer's error lands in the next invocation, a restart is a cold
// start everywhere, memory is a limit, and REPORT measures memory.
import { fileURLToPath } from 'node:url';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type BackendChoice, PoolHost, type TestkitConfig } from '@lambda-testkit/core';
import { PoolClient } from '@lambda-testkit/core/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalImage } from '../image/local-image.ts';

const root = fileURLToPath(new URL('../conformance/fixtures', import.meta.url));
const RUNTIME = 'nodejs22.x';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const decode = (bytes: Uint8Array | undefined) =>
  JSON.parse(Buffer.from(bytes ?? []).toString('utf8')) as Record<string, unknown>;
const logOf = (out: { LogResult?: string }) => Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');

function functions(): TestkitConfig['functions'] {
  const fn = (handler: string, more: Record<string, unknown> = {}) => ({
    runtime: RUNTIME,
    code: '.',
    handler,
    ...more,
  });
  return {
    'heavy-init': fn('lifecycle.work', { timeout: 1, environment: { INIT_DELAY_MS: '1500' } }),
    leak: fn('lifecycle.leak'),
    'leak-unfrozen': fn('lifecycle.leak', { environment: { LAMBDA_TESTKIT_FREEZE: 'false' } }),
    hog: fn('lifecycle.hogBuffers', { memorySize: 128 }),
    'write-probe': fn('lifecycle.writeProbe'),
  };
}

describe.each<BackendChoice>(['process', 'docker'])('sandbox lifecycle on the %s backend', (backend) => {
  let host: PoolHost;
  let client: PoolClient;
  let sdk: LambdaClient;

  beforeAll(async () => {
    const images = backend === 'docker' ? { [RUNTIME]: (await ensureLocalImage()).tag } : undefined;
    host = await PoolHost.start(
      { backend, functions: functions(), ...(images ? { images } : {}) },
      { root, log: () => {} },
    );
    client = new PoolClient({ url: host.url, token: host.token, region: host.region });
    sdk = new LambdaClient(client.sdkConfig());
  });
  afterAll(async () => {
    sdk?.destroy();
    await client?.close();
    await host?.stop();
  });

  it('a cold call of a 1 s function with a 1.5 s init does not time out and gets its whole second', async () => {
    const out = await sdk.send(
      new InvokeCommand({ FunctionName: 'heavy-init', Payload: '{"ms":300}', LogType: 'Tail' }),
    );
    expect(out.FunctionError, logOf(out)).toBeUndefined();
    expect(Number(decode(out.Payload).remaining)).toBeGreaterThan(500);
    expect(logOf(out)).toMatch(/Init Duration: \d+\.\d\d ms/);
  });

  it('a timer left running by one invocation fails the next; the one after is cold, everywhere', async () => {
    const first = await client.invoke('leak', { arm: true });
    expect(first.outcome).toBe('success');
    await sleep(500);
    const second = await sdk.send(
      new InvokeCommand({ FunctionName: 'leak', Payload: '{"waitMs":300}', LogType: 'Tail' }),
    );
    expect(second.FunctionError).toBe('Unhandled');
    expect(JSON.stringify(decode(second.Payload))).toMatch(
      /leaked from the previous invocation|Runtime\.ExitError/,
    );
    expect(logOf(second)).not.toContain('Init Duration');
    const third = await client.invoke('leak', {}, { logs: true });
    expect(third.outcome).toBe('success');
    expect(third.coldStart).toBe(true);
    expect((third.payload as Record<string, unknown>).invocations).toBe(1);
  });

  it('without the freeze, a runtime restarted behind the pool is reported cold (result, stats, summary)', async () => {
    const first = await client.invoke('leak-unfrozen', { arm: true });
    expect(first.coldStart).toBe(true);
    await sleep(500);
    const second = await client.invoke('leak-unfrozen', {}, { logs: true });
    expect(second.outcome).toBe('success');
    expect(second.coldStart).toBe(true);
    expect((second.payload as Record<string, unknown>).invocations).toBe(1);
    expect(second.logs.join('\n')).toMatch(/Init Duration: /);
    const stats = await client.stats();
    expect(stats['leak-unfrozen']).toMatchObject({ coldStarts: 2, warmHits: 0, invocations: 2 });
    const row = host.summary().find((r) => r.function === 'leak-unfrozen');
    expect(row).toMatchObject({ coldStarts: 2, invocations: 2 });
  });

  it('400 MB in a 128 MB function: Runtime.OutOfMemory, and the next call is cold', async () => {
    const out = await sdk.send(new InvokeCommand({ FunctionName: 'hog', Payload: '{"mb":400}' }));
    expect(out.FunctionError).toBe('Unhandled');
    expect(decode(out.Payload)).toMatchObject({
      errorType: 'Runtime.OutOfMemory',
      errorMessage: expect.stringMatching(/Runtime exited with error: signal: killed/),
    });
    const next = await client.invoke('hog', { mb: 1 }, { logs: true });
    expect(next.outcome).toBe('success');
    expect(next.coldStart).toBe(true);
    const used = Number(/Max Memory Used: (\d+) MB/.exec(next.logs.join('\n'))?.[1]);
    expect(used).toBeGreaterThan(10);
    expect(used).toBeLessThan(128);
  });

  if (backend === 'process') {
    it("only /tmp is writable: the runtime's own mount namespace (Linux), as root of its user namespace only", async () => {
      const out = await client.invoke('write-probe', {});
      expect(out.outcome).toBe('success');
      expect(out.payload).toMatchObject({
        results: { '/var/task': 'EROFS', '/opt': 'EROFS', '/tmp': 'written' },
        uid: 0,
      });
    });
    return;
  }
  it('only /tmp is writable, a 512 MB tmpfs (a read-only file system elsewhere); the function runs as an unprivileged user', async () => {
    const out = await client.invoke('write-probe', {});
    expect(out.outcome).toBe('success');
    expect(out.payload).toEqual({
      results: { '/var/task': 'EROFS', '/opt': 'EROFS', '/tmp': 'written' },
      tmpMb: 512,
      uid: 993,
    });
  });
});
