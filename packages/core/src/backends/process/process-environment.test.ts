import { delimiter } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvedFunction } from '../../testing/resolved-function.ts';
import { processEnvironment } from './process-environment.ts';
import { instanceLayout, safeSegment } from './run-root.ts';

const fn = resolvedFunction({ environment: { TABLE: 'orders-table' }, memorySize: 256 });
const layout = instanceLayout('/tmp/lambda-testkit/run', 'i-1');
const context = { region: 'eu-west-1', accountId: '111122223333' };
const host = {
  PATH: '/usr/bin:/bin',
  AWS_ACCESS_KEY_ID: 'AKIAREALDEVELOPERKEY',
  AWS_SECRET_ACCESS_KEY: 'real-secret',
  AWS_PROFILE: 'prod',
  GITHUB_TOKEN: 'ghp_secret',
  NODE_OPTIONS: '--inspect',
  HOME: '/home/dev',
};

describe('processEnvironment', () => {
  const env = processEnvironment(fn, context, layout, 22, host);

  it('passes no host variable but PATH: no developer credentials, profiles or tokens', () => {
    expect(env.AWS_ACCESS_KEY_ID).not.toBe(host.AWS_ACCESS_KEY_ID);
    expect(env.AWS_SECRET_ACCESS_KEY).not.toBe(host.AWS_SECRET_ACCESS_KEY);
    expect(env.AWS_PROFILE).toBeUndefined();
    expect(env.GITHUB_TOKEN).toBeUndefined();
    expect(env.NODE_OPTIONS).toBeUndefined();
    expect(env.HOME).toBe(layout.tmp);
    const values = Object.values(env).join('\n');
    for (const secret of ['AKIAREALDEVELOPERKEY', 'real-secret', 'ghp_secret', '--inspect']) {
      expect(values).not.toContain(secret);
    }
  });

  it('lays out the sandbox paths as the Node base image does, rooted at the instance folders', () => {
    expect(env.LAMBDA_TASK_ROOT).toBe(layout.task);
    expect(env.LAMBDA_RUNTIME_DIR).toBe(layout.runtime);
    expect(env.NODE_PATH?.split(delimiter)).toEqual([
      `${layout.opt}/nodejs/node22/node_modules`,
      `${layout.opt}/nodejs/node_modules`,
      layout.task,
    ]);
    expect(env.PATH?.split(delimiter).at(-1)).toBe(`${layout.opt}/bin`);
    expect(env.PATH).toContain('/usr/bin:/bin');
    expect(env.LD_LIBRARY_PATH?.split(delimiter).at(-1)).toBe(`${layout.opt}/lib`);
    expect(env.TZ).toBe(':UTC');
    expect(env.TMPDIR).toBe(layout.tmp);
  });

  it('carries the sandbox variables, the runtime id and the user variables', () => {
    expect(env.AWS_LAMBDA_FUNCTION_NAME).toBe('orders');
    expect(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE).toBe('256');
    expect(env.AWS_REGION).toBe('eu-west-1');
    expect(env.LAMBDA_TESTKIT_ACCOUNT_ID).toBe('111122223333');
    expect(env.LAMBDA_TESTKIT_RUNTIME).toBe('nodejs22.x');
    expect(env.TABLE).toBe('orders-table');
  });

  it('lets the user set TZ and NODE_PATH, but not move the task root', () => {
    const custom = processEnvironment(
      { ...fn, environment: { TZ: 'Europe/Paris', NODE_PATH: '/custom', LAMBDA_TASK_ROOT: '/elsewhere' } },
      context,
      layout,
      22,
      host,
    );
    expect(custom.TZ).toBe('Europe/Paris');
    expect(custom.NODE_PATH).toBe('/custom');
    expect(custom.LAMBDA_TASK_ROOT).toBe(layout.task);
  });

  it("hands the function's NODE_OPTIONS to the runtime past the emulator, and the inspector proxy when debugged", () => {
    const plain = processEnvironment(
      { ...fn, environment: { NODE_OPTIONS: '--enable-source-maps' } },
      context,
      layout,
      22,
      host,
    );
    expect(plain.NODE_OPTIONS).toBeUndefined();
    expect(plain.LAMBDA_TESTKIT_NODE_OPTIONS).toBe('--enable-source-maps');
    const debugged = processEnvironment(
      { ...fn, environment: { NODE_OPTIONS: '--enable-source-maps' }, debug: { wait: true } },
      context,
      layout,
      22,
      host,
    );
    expect(debugged.NODE_OPTIONS).toBeUndefined();
    // The emulator starts the runtime's inspector behind its own proxy on a port the system picks.
    expect(debugged.LAMBDA_TESTKIT_NODE_OPTIONS).toBe('--enable-source-maps');
    expect(debugged.LAMBDA_TESTKIT_INSPECT).toBe('127.0.0.1:0');
    expect(debugged.LAMBDA_TESTKIT_INSPECT_WAIT).toBe('true');
    expect(plain.LAMBDA_TESTKIT_INSPECT).toBeUndefined();
    // The function's own timeout: the emulator holds it while a debugger is attached.
    expect(debugged.AWS_LAMBDA_FUNCTION_TIMEOUT).toBe(plain.AWS_LAMBDA_FUNCTION_TIMEOUT);
    // A frozen runtime's inspector would not answer between calls.
    expect(debugged.LAMBDA_TESTKIT_FREEZE).toBe('false');
    expect(plain.LAMBDA_TESTKIT_FREEZE).toBeUndefined();
    expect(env.LAMBDA_TESTKIT_NODE_OPTIONS).toBeUndefined();
  });
});

describe('safeSegment', () => {
  it('keeps ids usable as one folder name', () => {
    expect(safeSegment('orders-1.a_b')).toBe('orders-1.a_b');
    expect(safeSegment('../../etc')).toBe('.._.._etc');
    expect(safeSegment('..')).toBe('_..');
    expect(safeSegment('a/b c')).toBe('a_b_c');
  });
});
