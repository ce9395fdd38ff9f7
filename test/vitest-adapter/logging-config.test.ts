// A function's loggingConfig end to end on the process backend, read as tests read logs: LogResult
// of the real @aws-sdk/client-lambda (LogType Tail) and the `logs` of lambda.invoke (PoolClient).
import { fileURLToPath } from 'node:url';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { acquirePoolHost, releasePoolHost } from '@lambda-testkit/core';
import { PoolClient } from '@lambda-testkit/core/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('./fixtures/functions', import.meta.url));

let sdk: LambdaClient;
let client: PoolClient;

beforeAll(async () => {
  const fn = (handler: string) => ({ runtime: 'nodejs22.x', code: '.', handler });
  const handle = await acquirePoolHost(
    {
      backend: 'process',
      functions: {
        text: fn('levels.handler'),
        json: {
          ...fn('levels.handler'),
          loggingConfig: { logFormat: 'JSON', applicationLogLevel: 'WARN' },
        },
        quiet: {
          ...fn('levels.handler'),
          loggingConfig: { logFormat: 'JSON', applicationLogLevel: 'ERROR', systemLogLevel: 'WARN' },
        },
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

async function tail(name: string): Promise<{ lines: string[]; requestId: string | undefined }> {
  const out = await sdk.send(new InvokeCommand({ FunctionName: name, Payload: '{}', LogType: 'Tail' }));
  expect(out.FunctionError).toBeUndefined();
  const lines = Buffer.from(out.LogResult ?? '', 'base64')
    .toString('utf8')
    .split('\n')
    .filter(Boolean);
  return { lines, requestId: out.$metadata.requestId };
}

const parse = (line: string) => JSON.parse(line) as { type?: string; level?: string; requestId?: string };

describe('loggingConfig through the pool server (process backend)', () => {
  it('no loggingConfig: Text lines, INIT_START first on a cold start, every level printed', async () => {
    const { lines, requestId } = await tail('text');
    expect(lines[0]).toMatch(
      /^INIT_START Runtime Version: nodejs:22\.v0\tRuntime Version ARN: arn:aws:lambda:/,
    );
    expect(lines[1]).toMatch(/\tundefined\tINFO\tinit line$/);
    expect(lines[2]).toBe(`START RequestId: ${requestId} Version: $LATEST`);
    for (const level of ['DEBUG', 'INFO', 'WARN', 'ERROR']) {
      expect(lines.some((l) => l.includes(`\t${requestId}\t${level}\t${level.toLowerCase()} line`))).toBe(
        true,
      );
    }
    expect(lines.at(-1)).toMatch(/\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t$/);
  });

  it('JSON, application level WARN: LogResult holds JSON records only, DEBUG and INFO dropped', async () => {
    const cold = await tail('json');
    expect(cold.lines.map((l) => parse(l).type ?? parse(l).level)).toEqual([
      'platform.initStart',
      'platform.start',
      'WARN',
      'ERROR',
      'platform.report',
    ]);
    expect(parse(cold.lines[2] ?? '{}').requestId).toBe(cold.requestId);
    const warm = await client.invoke('json', {});
    expect(warm.coldStart).toBe(false);
    expect(warm.logs.map((l) => parse(l).type ?? parse(l).level)).toEqual([
      'platform.start',
      'WARN',
      'ERROR',
      'platform.report',
    ]);
  });

  it('JSON, system level WARN: a successful call shows only its console lines, and is still cut right', async () => {
    const first = await client.invoke('quiet', {});
    const second = await client.invoke('quiet', {});
    for (const out of [first, second]) {
      expect(out.logs.map((l) => parse(l))).toEqual([
        expect.objectContaining({ level: 'ERROR', requestId: out.requestId, message: 'error line' }),
      ]);
    }
    // The cold start is still known without a report in the logs.
    expect([first.coldStart, second.coldStart]).toEqual([true, false]);
  });
});
