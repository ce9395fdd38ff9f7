/**
 * The whole flow on the process backend: the pool host loads a SAM template and a CDK assembly
 * (as the Vitest plugin and Jest preset do), and a worker-side client invokes their functions by
 * logical id, FunctionName, construct path — bundled TypeScript with a local layer included.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  acquirePoolHost,
  type PoolHostHandle,
  ProcessBackend,
  releasePoolHost,
  type TestkitConfig,
} from '@lambda-testkit/core';
import { PoolClient } from '@lambda-testkit/core/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureRoot, removeFixtureRoots } from './helpers.ts';

let client: PoolClient;
let handle: PoolHostHandle;
let root: string;

beforeAll(async () => {
  root = await fixtureRoot('sam-app');
  const cdkRoot = await fixtureRoot('cdk.out');
  const config: TestkitConfig = {
    sam: {
      template: 'template.yaml',
      overrides: { CreateOrderFunction: { environment: { TABLE_NAME: 'orders' } } },
    },
    cdk: { assembly: cdkRoot, stacks: ['OrdersStack'] },
  };
  handle = await acquirePoolHost(config, {
    root,
    backend: new ProcessBackend({ rootDir: join(root, 'instances') }),
    log: () => {},
  });
  client = new PoolClient({ url: handle.url, token: handle.token });
});

afterAll(async () => {
  await client?.close();
  await releasePoolHost({ keepAlive: false });
  await removeFixtureRoots();
});

describe('invoking template functions through the pool', () => {
  it('runs the esbuild-bundled SAM function with its layer', async () => {
    const result = await client.invoke<{ statusCode: number; body: string }>('CreateOrderFunction', {
      items: [{ price: 250, quantity: 2 }],
    });
    expect(result.functionError).toBeUndefined();
    expect(result.payload.statusCode).toBe(201);
    expect(JSON.parse(result.payload.body)).toEqual({
      total: 500,
      greeting: 'hello from the shared layer, orders',
    });
  });

  it('maps a SAM function error to the .ts source line', async () => {
    const result = await client.invoke('CreateOrderFunction', { fail: true });
    expect(result.functionError).toBe('Unhandled');
    expect(JSON.stringify(result.error)).toContain('order rejected');
    expect(JSON.stringify(result.error)).toMatch(/orders\/app\.ts:11:\d+/);
  });

  it('runs a CDK asset by construct path', async () => {
    const result = await client.invoke<{ body: string }>('OrdersStack/Orders', { id: 'o-7' });
    expect(result.functionError).toBeUndefined();
    expect(JSON.parse(result.payload.body)).toEqual({ id: 'o-7' });
  });

  it('answers to aliases: a SAM FunctionName, a full construct path, a unique logical id', async () => {
    const byName = await client.invoke<{ statusCode: number }>('CreateOrderFunction', { items: [] });
    const byFunctionName = await client.invoke<{ statusCode: number }>('test-create-order', { items: [] });
    expect(byFunctionName.payload.statusCode).toBe(201);
    expect(byFunctionName.instanceId).toBe(byName.instanceId); // the same function, the same warm instance

    const byPath = await client.invoke<{ body: string }>('OrdersStack/Orders', { id: 'a' });
    for (const alias of ['OrdersStack/Orders/Resource', 'Orders5B2D8E3A']) {
      const result = await client.invoke<{ body: string }>(alias, { id: 'b' });
      expect(JSON.parse(result.payload.body)).toEqual({ id: 'b' });
      expect(result.instanceId).toBe(byPath.instanceId);
    }
  });

  it('gives a fresh instance after an edit to an imported .ts file (watch rerun)', async () => {
    const before = await client.invoke<{ body: string }>('CreateOrderFunction', {
      items: [{ price: 1, quantity: 3 }],
    });
    expect(JSON.parse(before.payload.body).total).toBe(3);
    expect(await handle.host.refresh()).toEqual([]); // nothing changed: same bundle, same deploy id

    const total = join(root, 'orders', 'lib', 'total.ts');
    await writeFile(
      total,
      (await readFile(total, 'utf8')).replace(
        'item.price * item.quantity',
        'item.price * item.quantity * 10',
      ),
    );
    expect(await handle.host.refresh()).toEqual(['CreateOrderFunction']);
    const after = await client.invoke<{ body: string }>('CreateOrderFunction', {
      items: [{ price: 1, quantity: 3 }],
    });
    expect(JSON.parse(after.payload.body).total).toBe(30);
    expect(after.coldStart).toBe(true);
    expect(after.instanceId).not.toBe(before.instanceId);
  });
});
