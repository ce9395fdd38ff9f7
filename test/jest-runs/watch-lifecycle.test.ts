// The preset's globalSetup/globalTeardown through Jest's watch-mode lifecycle (Jest calls both on
// every rerun, jestjs/jest#6800): instances stay warm across reruns; a normal run stops them.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { releasePoolHost } from '@lambda-testkit/core';
import { ConfigError, ErrorCodes, InvokeError, PoolClient } from '@lambda-testkit/core/client';
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
    expect(process.env.LAMBDA_TESTKIT_REGION).toBe('eu-west-3');
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

  it('a watch rerun after a code change serves the new code from a fresh instance', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltk-jest-watch-'));
    const handler = (version: string) => `export const handler = async () => ({ version: '${version}' });\n`;
    mkdirSync(join(dir, 'fn'));
    writeFileSync(join(dir, 'fn/index.mjs'), handler('v1'));
    writeFileSync(
      join(dir, 'lambda-testkit.config.mjs'),
      "export default { backend: 'process', functions: { versioned: { runtime: 'nodejs22.x', code: './fn', handler: 'index.handler' } } };\n",
    );
    const watch = { rootDir: dir, watch: true, watchAll: false };
    try {
      await globalSetup(watch, { rootDir: dir });
      const c1 = client();
      expect((await c1.invoke('versioned')).payload).toEqual({ version: 'v1' });
      await c1.close();
      await globalTeardown(watch);

      writeFileSync(join(dir, 'fn/index.mjs'), handler('v2'));
      await globalSetup(watch, { rootDir: dir });
      const c2 = client();
      const res = await c2.invoke('versioned');
      await c2.close();
      expect(res.payload).toEqual({ version: 'v2' });
      expect(res.coldStart).toBe(true);
      await globalTeardown(watch);

      // An edit to the config file applies on the next rerun: renamed, the old name is unknown.
      const config = join(dir, 'lambda-testkit.config.mjs');
      writeFileSync(config, readFileSync(config, 'utf8').replace('versioned:', 'renamed:'));
      const later = Date.now() / 1000 + 10; // the config module is re-imported when its mtime changes
      utimesSync(config, later, later);
      await globalSetup(watch, { rootDir: dir });
      const c3 = client();
      expect((await c3.invoke('renamed')).payload).toEqual({ version: 'v2' });
      const gone = await c3.invoke('versioned').catch((e: unknown) => e);
      await c3.close();
      expect(gone).toBeInstanceOf(ConfigError);
      expect((gone as ConfigError).code).toBe(ErrorCodes.UNKNOWN_FUNCTION);
      await globalTeardown(watch);
    } finally {
      await releasePoolHost({ keepAlive: false });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads the config file named by LAMBDA_TESTKIT_CONFIG, relative to the rootDir', async () => {
    process.env.LAMBDA_TESTKIT_CONFIG = '../jest-runs/fixtures/alt.config.mjs';
    try {
      await globalSetup(runConfig, { rootDir });
      const c = client();
      // A function only that file declares; its code resolves against the file's own folder.
      expect((await c.invoke('alt-echo', { via: 'env' })).payload).toMatchObject({
        event: { via: 'env' },
        functionName: 'alt-echo',
      });
      await c.close();
      await globalTeardown(runConfig);
    } finally {
      delete process.env.LAMBDA_TESTKIT_CONFIG;
    }
  });

  it('fails with a clear ConfigError when no config file is found', async () => {
    const error = await globalSetup({ rootDir: '/', watch: false, watchAll: false }, { rootDir: '/' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe(ErrorCodes.CONFIG_INVALID);
    expect((error as ConfigError).message).toMatch(
      /No lambda-testkit configuration found.*lambda-testkit\.config\.ts/s,
    );
    expect(process.env.LAMBDA_TESTKIT_URL).toBeUndefined();
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
