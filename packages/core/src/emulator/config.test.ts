import { describe, expect, test } from 'vitest';
import { EmulatorConfigError, readFunctionConfig, runtimeEnvironment } from './config.ts';
import { decodeClientContext } from './invoke-server.ts';
import { withWrapper } from './runtime-process.ts';

describe('readFunctionConfig', () => {
  test("RIE's defaults when nothing is set, but a real ARN shape", () => {
    const config = readFunctionConfig({});
    expect(config).toMatchObject({
      functionName: 'test_function',
      functionVersion: '$LATEST',
      memorySizeMb: 3008,
      timeoutSeconds: 300,
      taskRoot: '/var/task',
      runtimeDir: '/var/runtime',
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test_function',
    });
  });

  test('LAMBDA_TESTKIT_INIT_AHEAD: off by default, 1/true on, anything else refused by name', () => {
    expect(readFunctionConfig({}).initAhead).toBe(false);
    expect(readFunctionConfig({ LAMBDA_TESTKIT_INIT_AHEAD: '1' }).initAhead).toBe(true);
    expect(readFunctionConfig({ LAMBDA_TESTKIT_INIT_AHEAD: 'true' }).initAhead).toBe(true);
    expect(readFunctionConfig({ LAMBDA_TESTKIT_INIT_AHEAD: '0' }).initAhead).toBe(false);
    expect(() => readFunctionConfig({ LAMBDA_TESTKIT_INIT_AHEAD: 'soon' })).toThrow(
      /LAMBDA_TESTKIT_INIT_AHEAD/,
    );
    // The platform's switch: the function never sees it.
    const env = { LAMBDA_TESTKIT_INIT_AHEAD: '1' };
    expect(runtimeEnvironment(env, readFunctionConfig(env), 'h.h', 'x:1')).not.toHaveProperty(
      'LAMBDA_TESTKIT_INIT_AHEAD',
    );
  });

  test('region and account come from the environment', () => {
    const config = readFunctionConfig({
      AWS_LAMBDA_FUNCTION_NAME: 'orders',
      AWS_REGION: 'eu-central-1',
      LAMBDA_TESTKIT_ACCOUNT_ID: '111122223333',
    });
    expect(config.functionArn).toBe('arn:aws:lambda:eu-central-1:111122223333:function:orders');
  });

  test('a non-integer timeout is refused with the variable named (RIE panics instead)', () => {
    expect(() => readFunctionConfig({ AWS_LAMBDA_FUNCTION_TIMEOUT: '2.5' })).toThrow(EmulatorConfigError);
    expect(() => readFunctionConfig({ AWS_LAMBDA_FUNCTION_TIMEOUT: '2.5' })).toThrow(
      /AWS_LAMBDA_FUNCTION_TIMEOUT/,
    );
    expect(() => readFunctionConfig({ LAMBDA_TESTKIT_ACCOUNT_ID: 'abc' })).toThrow(/12-digit/);
  });
});

describe('the runtime launcher (LAMBDA_TESTKIT_RUNTIME_WRAPPER)', () => {
  const wrapper = ['/usr/bin/unshare', '--user', '--', '/bin/sh', '-c', 'exec "$@"', 'table'];

  test('is read as a JSON argv, put before the runtime command, and never passed to the runtime', () => {
    const env = { LAMBDA_TESTKIT_RUNTIME_WRAPPER: JSON.stringify(wrapper) };
    const config = readFunctionConfig(env);
    expect(config.runtimeWrapper).toEqual(wrapper);
    expect(withWrapper({ file: '/node', args: ['/boot.js'] }, config.runtimeWrapper)).toEqual({
      file: '/usr/bin/unshare',
      args: ['--user', '--', '/bin/sh', '-c', 'exec "$@"', 'table', '/node', '/boot.js'],
    });
    expect(withWrapper({ file: '/node', args: [] }, undefined)).toEqual({ file: '/node', args: [] });
    expect(runtimeEnvironment(env, config, 'index.handler', '127.0.0.1:1')).not.toHaveProperty(
      'LAMBDA_TESTKIT_RUNTIME_WRAPPER',
    );
  });

  test('anything but a non-empty array of strings is refused with the variable named', () => {
    for (const raw of ['unshare', '[]', '[1]', '{"a":1}']) {
      expect(() => readFunctionConfig({ LAMBDA_TESTKIT_RUNTIME_WRAPPER: raw })).toThrow(
        /LAMBDA_TESTKIT_RUNTIME_WRAPPER to be a JSON array of strings/,
      );
    }
  });
});

describe('runtimeEnvironment', () => {
  test('forwards everything, fills what runtime clients require, adds the API address and handler', () => {
    const env = { CUSTOM: 'a=b=c', AWS_LAMBDA_FUNCTION_NAME: 'fn', LAMBDA_TESTKIT_RUNTIME: 'nodejs22.x' };
    const out = runtimeEnvironment(env, readFunctionConfig(env), 'index.handler', '127.0.0.1:9001');
    expect(out).toMatchObject({
      CUSTOM: 'a=b=c',
      AWS_LAMBDA_FUNCTION_NAME: 'fn',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/Functions',
      AWS_LAMBDA_LOG_STREAM_NAME: '$LATEST',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
      _HANDLER: 'index.handler',
      LAMBDA_TASK_ROOT: '/var/task',
    });
  });

  test('an AWS_EXECUTION_ENV given by the sandbox wins', () => {
    const env = { AWS_EXECUTION_ENV: 'AWS_Lambda_Image', LAMBDA_TESTKIT_RUNTIME: 'nodejs24.x' };
    expect(runtimeEnvironment(env, readFunctionConfig(env), 'h.h', 'x:1').AWS_EXECUTION_ENV).toBe(
      'AWS_Lambda_Image',
    );
  });
});

describe('decodeClientContext', () => {
  test('strict base64 like Go StdEncoding', () => {
    expect(decodeClientContext(Buffer.from('{"a":1}').toString('base64'))?.toString()).toBe('{"a":1}');
    expect(decodeClientContext('eyJhIjoxfQ')).toBeUndefined(); // padding missing
    expect(decodeClientContext('not base64!!')).toBeUndefined();
  });
});
