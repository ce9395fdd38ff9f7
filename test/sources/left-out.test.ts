/**
 * Through the pool host, as the Vitest plugin and Jest preset run it (process backend): a template
 * with runnable and unrunnable functions sets up, says which were left out in one line, runs the
 * others, and answers an invoke of a left-out one with its LTK_ error; nested functions answer to
 * their full names and unique logical ids; a watch rerun picks up a fix.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PoolClient } from '@lambda-testkit/core/client';
import {
  acquirePoolHost,
  ErrorCodes,
  isTestkitError,
  type PoolHostHandle,
  ProcessBackend,
  releasePoolHost,
} from '@lambda-testkit/core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureRoot, removeFixtureRoots } from './helpers.ts';

let client: PoolClient;
let handle: PoolHostHandle;
let root: string;
const lines: string[] = [];

beforeAll(async () => {
  root = await fixtureRoot('sam-mixed');
  const nested = await fixtureRoot('sam-nested');
  handle = await acquirePoolHost(
    { sam: { template: 'template.yaml' }, functions: {} },
    {
      root,
      backend: new ProcessBackend({ rootDir: join(root, 'instances') }),
      log: (l) => lines.push(l),
      watch: true,
    },
  );
  // A second configuration in the same run (as a second Vitest project would add).
  await acquirePoolHost(
    { sam: { template: join(nested, 'template.yaml') } },
    { root: nested, log: (l) => lines.push(l), watch: true },
  );
  client = new PoolClient({ url: handle.url, token: handle.token });
});

afterAll(async () => {
  await client?.close();
  await releasePoolHost({ keepAlive: false });
  await releasePoolHost({ keepAlive: false });
  await removeFixtureRoots();
});

async function invokeError(name: string): Promise<unknown> {
  return client.invoke(name, {}).then(
    () => new Error(`${name} answered`),
    (error: unknown) => error,
  );
}

describe('a template with functions that cannot run here, through the pool', () => {
  it('sets up, saying in one line which functions were left out and why', () => {
    const leftOut = lines.filter((l) => l.includes('cannot run here and'));
    expect(leftOut).toHaveLength(1);
    expect(leftOut[0]).toMatch(
      /^6 functions cannot run here and were left out: LegacyGoFunction \(LTK_UNSUPPORTED_RUNTIME/,
    );
    expect(leftOut[0]).toContain(
      'ImageFunction (LTK_TEMPLATE_INVALID: a container image (PackageType: Image))',
    );
  });

  it('runs the functions that can run', async () => {
    const hello = await client.invoke<{ hello: string }>('HelloFunction', { name: 'tea' });
    expect(hello.functionError).toBeUndefined();
    expect(hello.payload).toEqual({ hello: 'tea' });
    const handler = await client.invoke<{ handler: string }>('paymentsHandler', {});
    expect(handler.payload).toMatchObject({ handler: 'payments', name: 'payments' });
  });

  it('an invoke of a left-out function fails with its code, why, and what to set', async () => {
    const error = await invokeError('LegacyGoFunction');
    expect(isTestkitError(error, ErrorCodes.UNSUPPORTED_RUNTIME)).toBe(true);
    expect((error as Error).message).toContain('Function "LegacyGoFunction" was left out');
    expect((error as Error).message).toContain('sam.overrides.LegacyGoFunction');
    const pipeline = await invokeError('PipelineFunction');
    expect(isTestkitError(pipeline, ErrorCodes.TEMPLATE_INVALID)).toBe(true);
    expect((pipeline as Error).message).toContain('has no usable code');
  });

  it('answers an AWS client as Lambda answers a function it cannot bring up (502)', async () => {
    const res = await fetch(`${handle.url}/2015-03-31/functions/GoFunction/invocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${handle.token}` },
      body: '{}',
    });
    expect(res.status).toBe(502);
    expect(res.headers.get('x-amzn-errortype')).toBe('ResourceNotReadyException');
    expect(await res.text()).toContain('LTK_CODE_NOT_FOUND');
  });

  it('an unknown name lists the left-out functions too', async () => {
    const error = await invokeError('NoSuchFunction');
    expect(isTestkitError(error, ErrorCodes.UNKNOWN_FUNCTION)).toBe(true);
    expect((error as Error).message).toContain('left out here: LegacyGoFunction');
  });

  it('reaches nested functions by full name and by unique logical id: one function, one warm instance', async () => {
    const full = await client.invoke<{ from: string; prefix: string }>('OrdersApp/PaymentsStack/Charge', {});
    expect(full.payload).toMatchObject({ from: 'payments', prefix: 'dev-pay' });
    const short = await client.invoke('Charge', {});
    expect(short.instanceId).toBe(full.instanceId);
  });

  it('a watch rerun loads a function once the template gives it what it lacked', async () => {
    const path = join(root, 'template.yaml');
    await writeFile(
      path,
      (await readFile(path, 'utf8')).replace(
        '      Handler: index.handler\n      Runtime: nodejs22.x\n      Role: !GetAtt PipelineRole.Arn',
        '      Code: worker/\n      Handler: index.handler\n      Runtime: nodejs22.x\n      Role: !GetAtt PipelineRole.Arn',
      ),
    );
    await handle.host.refresh();
    const fixed = await client.invoke<{ worked: boolean }>('PipelineFunction', {});
    expect(fixed.payload).toEqual({ worked: true });
    expect(isTestkitError(await invokeError('LegacyGoFunction'), ErrorCodes.UNSUPPORTED_RUNTIME)).toBe(true);
  });
});
