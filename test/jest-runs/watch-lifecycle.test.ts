// The preset's globalSetup/globalTeardown through Jest's watch-mode lifecycle (Jest calls both on
// every rerun, jestjs/jest#6800): instances stay warm across reruns; a normal run stops them.
import { join } from 'node:path';
import { releasePoolHost } from '@lambda-testkit/core';
import { ErrorCodes, InvokeError, PoolClient } from '@lambda-testkit/core/client';
import globalSetup from '@lambda-testkit/jest/global-setup';
import globalTeardown from '@lambda-testkit/jest/global-teardown';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from './run-jest.ts';

const rootDir = join(repoRoot, 'test/jest-adapter');
const watchConfig = { rootDir, watch: true, watchAll: false };
const runConfig = { rootDir, watch: false, watchAll: false };

function client(): PoolClient {
  return PoolClient.fromEnv();
}

describe('globalSetup / globalTeardown', () => {
  afterEach(async () => {
    await releasePoolHost({ keepAlive: false });
  });

  it('keeps instances warm across watch reruns and hands workers the same server', async () => {
    await globalSetup(watchConfig, { rootDir });
    const first = { url: process.env.LAMBDA_TESTKIT_URL, token: process.env.LAMBDA_TESTKIT_TOKEN };
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const c1 = client();
    expect((await c1.invoke('echo', { run: 1 })).coldStart).toBe(true);
    await c1.close();
    await globalTeardown(watchConfig);

    // Rerun: setup again (refresh), same server and token, the instance is still warm.
    await globalSetup(watchConfig, { rootDir });
    expect(process.env.LAMBDA_TESTKIT_URL).toBe(first.url);
    expect(process.env.LAMBDA_TESTKIT_TOKEN).toBe(first.token);
    const c2 = client();
    const again = await c2.invoke('echo', { run: 2 });
    expect(again.coldStart).toBe(false);
    await c2.close();
    await globalTeardown(watchConfig);
  });

  it('stops the pool at the end of a normal run', async () => {
    await globalSetup(runConfig, { rootDir });
    const c = new PoolClient({
      url: process.env.LAMBDA_TESTKIT_URL ?? '',
      token: process.env.LAMBDA_TESTKIT_TOKEN ?? '',
    });
    expect((await c.invoke('echo', {})).statusCode).toBe(200);
    await globalTeardown(runConfig);
    expect(process.env.LAMBDA_TESTKIT_URL).toBeUndefined();
    const error = await c.invoke('echo', {}).catch((e: unknown) => e);
    await c.close();
    expect(error).toBeInstanceOf(InvokeError);
    expect((error as InvokeError).code).toBe(ErrorCodes.SERVER_UNREACHABLE);
  });
});
