import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { ENV_DEBUG } from '@lambda-testkit/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEBUG_VARIABLE, globalSetupPath, lambdaTestkit } from './plugin.ts';
import { pluginOptionsFor } from './plugin-options.ts';

type Hook = (...args: unknown[]) => unknown;
const call = (hook: unknown, ...args: unknown[]) => (hook as Hook)(...args);

function fakeVitest(reporters: unknown[] = []) {
  return { config: { reporters } };
}

describe('lambdaTestkit()', () => {
  it('adds the global setup by absolute path', () => {
    const plugin = lambdaTestkit();
    expect(call(plugin.config)).toEqual({ test: { globalSetup: [globalSetupPath] } });
    expect(isAbsolute(globalSetupPath)).toBe(true);
    expect(existsSync(globalSetupPath)).toBe(true);
  });

  it('turns test and hook timeouts off while a function is debugged (env or inline config)', () => {
    expect(DEBUG_VARIABLE).toBe(ENV_DEBUG);
    const off = { globalSetup: [globalSetupPath], testTimeout: 0, hookTimeout: 0 };
    const functions = { a: { runtime: 'nodejs22.x', handler: 'index.handler', code: './a', debug: true } };
    expect(call(lambdaTestkit({ functions }).config)).toEqual({ test: off });
    vi.stubEnv(ENV_DEBUG, 'a');
    expect(call(lambdaTestkit().config)).toEqual({ test: off });
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('hands inline options (and the config file) to the global setup by root', () => {
    const functions = { a: { runtime: 'nodejs22.x', handler: 'index.handler', code: './a' } };
    call(lambdaTestkit({ functions, backend: 'process', reporter: false }).configResolved, {
      root: '/p/one',
    });
    call(lambdaTestkit({ configFile: 'other.config.ts' }).configResolved, { root: '/p/two' });
    expect(pluginOptionsFor('/p/one')).toEqual({
      config: { functions, backend: 'process' },
      configFile: undefined,
    });
    expect(pluginOptionsFor('/p/two')).toEqual({ config: undefined, configFile: 'other.config.ts' });
  });

  it('adds the reporter once per Vitest instance, and not when listed or disabled', () => {
    const vitest = fakeVitest();
    const plugin = lambdaTestkit();
    call(plugin.configureVitest, { vitest });
    call(plugin.configureVitest, { vitest });
    expect(vitest.config.reporters).toHaveLength(1);
    expect(String((vitest.config.reporters[0] as [string])[0])).toMatch(/reporter\.(ts|js)$/);

    const listed = fakeVitest(['default', ['@lambda-testkit/vitest/reporter', {}]]);
    call(lambdaTestkit().configureVitest, { vitest: listed });
    expect(listed.config.reporters).toHaveLength(2);

    const toFile = fakeVitest();
    call(lambdaTestkit({ reporter: { outputFile: 'ltk.json' } }).configureVitest, { vitest: toFile });
    expect((toFile.config.reporters[0] as [string, unknown])[1]).toEqual({ outputFile: 'ltk.json' });

    const off = fakeVitest();
    call(lambdaTestkit({ reporter: false }).configureVitest, { vitest: off });
    expect(off.config.reporters).toHaveLength(0);
  });
});
