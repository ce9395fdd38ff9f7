/**
 * The pool reaches a process-backend instance's emulator, which runs in its own process, without
 * HTTP for buffered invokes (LaunchedInstance.direct; docs/architecture.md#process-backend), and over
 * HTTP for streamed ones. Seen from outside: a proxy in front of each instance's endpoint counts the
 * connections the pool opens, and a wrapper counts the direct calls.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type LaunchContext,
  type LaunchedInstance,
  ProcessBackend,
  type ProcessInstance,
  type ResolvedFunction,
  WarmPool,
} from '@lambda-testkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appFunction } from './helpers.ts';

/** A ProcessBackend whose instances are reached through a counting TCP proxy, with counted direct calls. */
class ObservedBackend extends ProcessBackend {
  directCalls = 0;
  proxyConnections = 0;
  readonly proxies: Server[] = [];

  override async launch(
    fn: ResolvedFunction,
    context: LaunchContext,
  ): Promise<LaunchedInstance<ProcessInstance>> {
    const launched = await super.launch(fn, context);
    const target = new URL(launched.endpoint);
    const proxy = createServer((socket) => {
      this.proxyConnections++;
      const upstream = connect(Number(target.port), target.hostname);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    this.proxies.push(proxy);
    const direct = launched.direct;
    return {
      ...launched,
      endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      ...(direct
        ? {
            direct: {
              invoke: (request) => {
                this.directCalls++;
                return direct.invoke(request);
              },
            },
          }
        : {}),
    };
  }
}

let rootDir: string;
let backend: ObservedBackend;
let pool: WarmPool;
const event = (value: unknown) => Buffer.from(JSON.stringify(value));

beforeAll(async () => {
  rootDir = await mkdtemp(join(tmpdir(), 'ltk-process-direct-'));
  backend = new ObservedBackend({ rootDir });
  pool = new WarmPool({ backend, runId: 'direct-run', maxConcurrency: 1 });
  pool.register(await appFunction({ name: 'echo' }));
});

afterAll(async () => {
  await pool?.stopAll();
  await backend?.close();
  for (const proxy of backend?.proxies ?? []) proxy.close();
  await rm(rootDir, { recursive: true, force: true });
});

describe('the pool on the process backend', () => {
  it('sends buffered invokes to the in-process emulator directly: no connection to the endpoint', async () => {
    const cold = await pool.invoke('echo', event({ n: 1 }));
    const warm = await pool.invoke('echo', event({ n: 2 }));
    expect(cold).toMatchObject({
      kind: 'success',
      coldStart: true,
      json: { invocations: 1, echo: { n: 1 } },
    });
    expect(warm).toMatchObject({
      kind: 'success',
      coldStart: false,
      json: { invocations: 2, echo: { n: 2 } },
    });
    expect(warm.logs[0]).toBe(`START RequestId: ${warm.requestId} Version: $LATEST`);
    expect(backend.directCalls).toBe(2);
    expect(backend.proxyConnections).toBe(0);
  });

  it('streams over HTTP to the same instance', async () => {
    const streamed = await pool.invokeStream('echo', event({ n: 3 }));
    const parts: Buffer[] = [];
    for await (const part of streamed.body) parts.push(part);
    expect(await streamed.outcome).toMatchObject({ kind: 'success', coldStart: false });
    expect(JSON.parse(Buffer.concat(parts).toString())).toMatchObject({ invocations: 3, echo: { n: 3 } });
    expect(backend.proxyConnections).toBe(1);
    expect(backend.directCalls).toBe(2);
  });
});
