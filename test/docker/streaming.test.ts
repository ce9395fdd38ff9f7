/**
 * Response streaming on the DockerBackend with the local image (whose emulator serves the streaming
 * route; AWS's RIE in the AWS base images cannot stream, see docs/lambda-apis.md#response-streaming):
 * the pool server read by the real AWS SDK's InvokeWithResponseStreamCommand and by PoolClient.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  InvokeWithResponseStreamCommand,
  type InvokeWithResponseStreamCommandOutput,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import {
  createRunToken,
  DockerBackend,
  PoolServer,
  type ResolvedFunction,
  resolveFunction,
  WarmPool,
} from '@lambda-testkit/core';
import { PoolClient } from '@lambda-testkit/core/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dockerMissing, localImage, requireDocker } from './helpers.ts';

const streamFunctions = fileURLToPath(new URL('../streaming/fixtures/functions/', import.meta.url));

let backend: DockerBackend;
let pool: WarmPool;
let server: PoolServer;
let client: PoolClient;
let sdk: LambdaClient;

function streamFunction(name: string, handler: string): Promise<ResolvedFunction> {
  return resolveFunction(
    { name, runtime: 'nodejs22.x', handler, code: streamFunctions, timeout: 30, image: localImage() },
    { root: streamFunctions },
  );
}

beforeEach(() => requireDocker());

beforeAll(async () => {
  if (dockerMissing()) return;
  backend = new DockerBackend({ log: () => {} });
  pool = new WarmPool({ backend, idleTtlMs: Number.POSITIVE_INFINITY, runId: randomUUID() });
  pool.register(await streamFunction('chunks', 'stream.chunks'));
  pool.register(await streamFunction('fails-midway', 'stream.failsMidway'));
  pool.register(await streamFunction('http', 'stream.http'));
  pool.register(await streamFunction('big', 'stream.big'));
  // One container per function now, from the image the global setup just built (the tag is shared
  // by every checkout on this engine, and another one may rebuild it while this file runs).
  await Promise.all(pool.functionNames().map((name) => pool.prewarm(name)));
  const token = createRunToken();
  server = new PoolServer({ pool, token });
  const url = await server.listen();
  client = new PoolClient({ url, token, region: pool.region });
  sdk = new LambdaClient(client.sdkConfig());
});

afterAll(async () => {
  sdk?.destroy();
  await client?.close();
  await server?.close();
  await pool?.stopAll();
  await backend?.close();
});

/** Reads the SDK's event stream, noting when each event arrived. */
async function read(out: InvokeWithResponseStreamCommandOutput) {
  const chunks: { text: string; at: number }[] = [];
  let complete: { at: number; ErrorCode?: string; ErrorDetails?: string; LogResult?: string } | undefined;
  for await (const event of out.EventStream ?? []) {
    const at = performance.now();
    if (event.PayloadChunk?.Payload) {
      chunks.push({ text: Buffer.from(event.PayloadChunk.Payload).toString('utf8'), at });
    }
    if (event.InvokeComplete) complete = { ...event.InvokeComplete, at };
  }
  return { chunks, complete };
}

describe('response streaming on DockerBackend (local image)', () => {
  it('InvokeWithResponseStreamCommand: each chunk arrives while the handler still runs', async () => {
    // Three chunks 700 ms apart: the first is written 1.4 s before the handler ends.
    const out = await sdk.send(
      new InvokeWithResponseStreamCommand({
        FunctionName: 'chunks',
        Payload: JSON.stringify({ chunks: ['one', 'two', 'three'], pauseMs: 700 }),
        LogType: 'Tail',
      }),
    );
    const { chunks, complete } = await read(out);
    expect(chunks.map((c) => c.text).join('')).toBe('onetwothree');
    expect(chunks.length).toBe(3);
    expect((complete?.at ?? 0) - (chunks[0]?.at ?? 0)).toBeGreaterThan(700);
    expect(complete?.ErrorCode).toBeUndefined();
    const log = Buffer.from(complete?.LogResult ?? '', 'base64').toString('utf8');
    expect(log).toContain(`REPORT RequestId: ${out.$metadata.requestId}`);
  });

  it('reports a mid-stream error in InvokeComplete, then reuses the container', async () => {
    const first = await client.invokeStream('fails-midway');
    const failed = await first.collect();
    expect(Buffer.from(failed.body).toString('utf8')).toBe('part1');
    expect(failed.completion).toMatchObject({
      functionError: 'Unhandled',
      error: { errorType: 'TypeError', errorMessage: 'stream broke midway' },
    });
    const out = await sdk.send(new InvokeWithResponseStreamCommand({ FunctionName: 'fails-midway' }));
    const { chunks, complete } = await read(out);
    expect(chunks.map((c) => c.text).join('')).toBe('part1');
    expect(complete).toMatchObject({ ErrorCode: 'TypeError', ErrorDetails: 'stream broke midway' });
    const instances = pool.list().filter((i) => i.functionName === 'fails-midway');
    expect(instances).toHaveLength(1);
    expect(instances[0]?.invocations).toBe(2);
  });

  it('passes the HTTP-integration prelude through', async () => {
    const stream = await client.invokeStream('http');
    expect(stream.http).toMatchObject({ statusCode: 201, cookies: ['a=1'] });
    expect(Buffer.from((await stream.collect()).body).toString('utf8')).toBe('created');
  });

  it('cuts a response over 20 MiB with Function.ResponseSizeTooLarge', async () => {
    const { body, completion } = await (await client.invokeStream('big', { megabytes: 21 })).collect();
    expect(body.length).toBe(20 * 1024 * 1024);
    expect(completion).toMatchObject({
      outcome: 'oversized',
      error: { errorType: 'Function.ResponseSizeTooLarge' },
    });
  });
});
