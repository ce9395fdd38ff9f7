import { describe, expect, test } from 'vitest';
import { readFunctionConfig, runtimeEnvironment } from './config.ts';
import { BOUNDARY_PREFIX, PlatformLog, runtimeVersionOf } from './report-lines.ts';

const NOW = new Date('2026-12-01T10:00:00.000Z');
const text = new PlatformLog({ format: 'Text', systemLogLevel: 'INFO' }, () => NOW);
const json = (systemLogLevel: 'DEBUG' | 'INFO' | 'WARN') =>
  new PlatformLog({ format: 'JSON', systemLogLevel }, () => NOW);
const parse = (line: string) =>
  JSON.parse(line) as { time: string; type: string; record: Record<string, unknown> };

const figures = { requestId: 'id-1', durationMs: 2, memorySizeMb: 128, maxMemoryUsedMb: 70 };

describe('Text records, as Lambda prints them', () => {
  test('START and END', () => {
    expect(text.start('id-1', '$LATEST')).toBe('START RequestId: id-1 Version: $LATEST\n');
    expect(text.end('id-1', { status: 'success', durationMs: 1 })).toBe('END RequestId: id-1\n');
  });

  test('REPORT: the metrics, then Init Duration last; billed duration counts the init', () => {
    expect(text.report({ ...figures, durationMs: 1.234 })).toBe(
      'REPORT RequestId: id-1\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\t\n',
    );
    expect(text.report({ ...figures, initDurationMs: 67.49, durationMs: 3000 })).toBe(
      'REPORT RequestId: id-1\tDuration: 3000.00 ms\tBilled Duration: 3068 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\tInit Duration: 67.49 ms\t\n',
    );
  });

  test('REPORT of a timeout and of a runtime that ended: Status (and Error Type) after Init Duration', () => {
    expect(text.report({ ...figures, initDurationMs: 10.5, status: 'timeout' })).toBe(
      'REPORT RequestId: id-1\tDuration: 2.00 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\tInit Duration: 10.50 ms\tStatus: timeout\n',
    );
    expect(text.report({ ...figures, status: 'error', errorType: 'Runtime.OutOfMemory' })).toBe(
      'REPORT RequestId: id-1\tDuration: 2.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\tStatus: error\tError Type: Runtime.OutOfMemory\n',
    );
    // A function error is an ordinary REPORT.
    expect(text.report({ ...figures, status: 'failure' })).toMatch(/Max Memory Used: 70 MB\t\n$/);
  });

  test('INIT_START names the runtime version and its ARN, tab-separated; none without a managed runtime', () => {
    const version = runtimeVersionOf('nodejs24.x', 'eu-west-1');
    expect(version?.runtimeVersion).toBe('nodejs:24.v0');
    expect(version?.runtimeVersionArn).toMatch(/^arn:aws:lambda:eu-west-1::runtime:[0-9a-f]{64}$/);
    expect(text.initStart({ functionName: 'f', functionVersion: '$LATEST', ...version })).toBe(
      `INIT_START Runtime Version: nodejs:24.v0\tRuntime Version ARN: ${version?.runtimeVersionArn}\n`,
    );
    expect(runtimeVersionOf('python3.13', 'eu-west-1')?.runtimeVersion).toBe('python:3.13.v0');
    expect(runtimeVersionOf(undefined, 'eu-west-1')).toBeUndefined();
    expect(runtimeVersionOf('provided.al2023', 'eu-west-1')).toBeUndefined();
    expect(text.initStart({ functionName: 'f', functionVersion: '$LATEST' })).toBe('');
    // Text has no line for the end of init.
    expect(text.initDone(5, 'success')).toBe('');
  });
});

describe('JSON records (platform.*), filtered by the system log level', () => {
  test('INFO: initStart, start and report; runtimeDone and the init end are DEBUG', () => {
    const log = json('INFO');
    const version = runtimeVersionOf('nodejs22.x', 'us-east-1');
    expect(parse(log.initStart({ functionName: 'f', functionVersion: '$LATEST', ...version }))).toEqual({
      time: '2026-12-01T10:00:00.000Z',
      type: 'platform.initStart',
      record: {
        initializationType: 'on-demand',
        phase: 'init',
        runtimeVersion: 'nodejs:22.v0',
        runtimeVersionArn: version?.runtimeVersionArn,
        functionName: 'f',
        functionVersion: '$LATEST',
      },
    });
    expect(parse(log.start('id-1', '$LATEST'))).toEqual({
      time: '2026-12-01T10:00:00.000Z',
      type: 'platform.start',
      record: { requestId: 'id-1', version: '$LATEST' },
    });
    expect(log.end('id-1', { status: 'success', durationMs: 2 })).toBe('');
    expect(log.initDone(12.345, 'success')).toBe('');
    expect(parse(log.report({ ...figures, initDurationMs: 10.456 }))).toEqual({
      time: '2026-12-01T10:00:00.000Z',
      type: 'platform.report',
      record: {
        requestId: 'id-1',
        metrics: {
          durationMs: 2,
          billedDurationMs: 13,
          memorySizeMB: 128,
          maxMemoryUsedMB: 70,
          initDurationMs: 10.46,
        },
        status: 'success',
      },
    });
    // Without a runtime version, initStart is a DEBUG record.
    expect(log.initStart({ functionName: 'f', functionVersion: '$LATEST' })).toBe('');
  });

  test('DEBUG adds platform.runtimeDone and the init end', () => {
    const log = json('DEBUG');
    expect(parse(log.end('id-1', { status: 'success', durationMs: 2 }))).toMatchObject({
      type: 'platform.runtimeDone',
      record: { requestId: 'id-1', status: 'success', metrics: { durationMs: 2 } },
    });
    const [runtimeDone, initReport] = log.initDone(12.345, 'success').trimEnd().split('\n').map(parse);
    expect(runtimeDone).toMatchObject({ type: 'platform.initRuntimeDone', record: { status: 'success' } });
    expect(initReport).toMatchObject({
      type: 'platform.initReport',
      record: { metrics: { durationMs: 12.35 } },
    });
    expect(parse(log.initStart({ functionName: 'f', functionVersion: '$LATEST' })).type).toBe(
      'platform.initStart',
    );
  });

  test('WARN keeps only failures; a dropped start or report leaves a boundary line for the pool', () => {
    const log = json('WARN');
    expect(log.start('id-1', '$LATEST')).toBe(`${BOUNDARY_PREFIX}platform.start id-1\n`);
    expect(log.report(figures)).toBe(`${BOUNDARY_PREFIX}platform.report id-1\n`);
    expect(log.report({ ...figures, initDurationMs: 5 })).toBe(
      `${BOUNDARY_PREFIX}platform.report id-1 init=5.00\n`,
    );
    expect(parse(log.report({ ...figures, status: 'timeout' }))).toMatchObject({
      type: 'platform.report',
      record: { status: 'timeout' },
    });
    expect(
      parse(log.end('id-1', { status: 'error', errorType: 'Runtime.ExitError', durationMs: 2 })),
    ).toMatchObject({
      type: 'platform.runtimeDone',
      record: { status: 'error', errorType: 'Runtime.ExitError' },
    });
  });
});

describe('the emulator reads the logging configuration', () => {
  test('AWS_LAMBDA_LOG_FORMAT (any case) and LAMBDA_TESTKIT_SYSTEM_LOG_LEVEL, INFO by default', () => {
    expect(readFunctionConfig({}).logging).toEqual({ format: 'Text', systemLogLevel: 'INFO' });
    expect(
      readFunctionConfig({ AWS_LAMBDA_LOG_FORMAT: 'json', LAMBDA_TESTKIT_SYSTEM_LOG_LEVEL: 'warn' }).logging,
    ).toEqual({ format: 'JSON', systemLogLevel: 'WARN' });
    expect(() => readFunctionConfig({ LAMBDA_TESTKIT_SYSTEM_LOG_LEVEL: 'ERROR' })).toThrow(
      /LAMBDA_TESTKIT_SYSTEM_LOG_LEVEL to be DEBUG, INFO or WARN, got "ERROR"/,
    );
  });

  test('the runtime gets AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL, not the system level', () => {
    const env = {
      AWS_LAMBDA_LOG_FORMAT: 'JSON',
      AWS_LAMBDA_LOG_LEVEL: 'WARN',
      LAMBDA_TESTKIT_SYSTEM_LOG_LEVEL: 'DEBUG',
    };
    const out = runtimeEnvironment(env, readFunctionConfig(env), 'index.handler', '127.0.0.1:9001');
    expect(out).toMatchObject({ AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'WARN' });
    expect(out).not.toHaveProperty('LAMBDA_TESTKIT_SYSTEM_LOG_LEVEL');
  });
});
