/**
 * A run with wiring (docs/wiring.md), shared by the Docker and process-backend suites: two HTTP
 * servers on the host's 127.0.0.1 (one declared in `hostPorts`, one not), a pool host whose
 * functions are the bundled `probe` fixture (`probe`, and `callee` for calls between functions),
 * and a client that calls them as a test does. One instance per function (`maxConcurrency: 1`), so
 * reuse and self-waits are plain to see.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  acquirePoolHost,
  type LambdaBackend,
  type PoolHostHandle,
  releasePoolHost,
  type TestkitConfig,
} from '@lambda-testkit/core';
import { PoolClient } from '@lambda-testkit/core/client';

const fixtureRoot = fileURLToPath(new URL('./fixtures/wiring/', import.meta.url));

export interface WiringRun {
  handle: PoolHostHandle;
  client: PoolClient;
  /** Lines the pool host logged. */
  log: string[];
  /** Port of the host server functions may reach (answers `declared`). */
  declaredPort: number;
  /** Port of a host server on 127.0.0.1 that was not declared (answers `undeclared`). */
  undeclaredPort: number;
  /** Invokes `name` with a probe event and resolves with its JSON payload. */
  probe<T = Record<string, unknown>>(event: Record<string, unknown>, name?: string): Promise<T>;
  stop(): Promise<void>;
}

async function hostServer(answer: string): Promise<Server> {
  const server = createServer((_req, res) => res.end(answer));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

export async function startWiringRun(
  backend: LambdaBackend,
  extra: Partial<TestkitConfig> = {},
): Promise<WiringRun> {
  const declared = await hostServer('declared');
  const undeclared = await hostServer('undeclared');
  const declaredPort = (declared.address() as AddressInfo).port;
  const undeclaredPort = (undeclared.address() as AddressInfo).port;
  const probe = { runtime: 'nodejs22.x', entry: './probe.ts', handler: 'probe.handler', timeout: 20 };
  const config: TestkitConfig = {
    functions: {
      probe: {
        ...probe,
        bundle: { bundleAwsSdk: true },
        environment: { AWS_ENDPOINT_URL_S3: 'http://own-s3:1' },
      },
      callee: { ...probe, bundle: { bundleAwsSdk: true } },
    },
    maxConcurrency: 1,
    hostPorts: [declaredPort],
    awsEndpoints: {
      default: 'http://localhost:4566',
      dynamodb: `http://127.0.0.1:${declaredPort}`,
      s3: 'http://s3:9',
    },
    functionsCanInvoke: true,
    ...extra,
  };
  const log: string[] = [];
  let handle: PoolHostHandle;
  try {
    handle = await acquirePoolHost(config, { root: fixtureRoot, backend, log: (line) => log.push(line) });
  } catch (error) {
    declared.close();
    undeclared.close();
    throw error;
  }
  const client = new PoolClient({ url: handle.url, token: handle.token });
  return {
    handle,
    client,
    log,
    declaredPort,
    undeclaredPort,
    async probe<T>(event: Record<string, unknown>, name = 'probe'): Promise<T> {
      const result = await client.invoke<T>(name, event);
      if (result.functionError) throw new Error(`${name} failed: ${JSON.stringify(result.error)}`);
      return result.payload;
    },
    async stop() {
      await client.close();
      await releasePoolHost({ keepAlive: false });
      declared.close();
      undeclared.close();
    },
  };
}

/** Polls `check` until it holds, for at most `timeoutMs` (an Event call's work ends after its 202). */
export async function eventually(
  check: () => boolean,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
