import { describe, expect, test } from 'vitest';
import { ConfigError, ErrorCodes } from './errors.ts';
import { checkLoggingConfig, loggingEnvironment } from './logging-config.ts';

function refusal(raw: unknown): ConfigError {
  try {
    checkLoggingConfig('orders', raw);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('checkLoggingConfig', () => {
  test('nothing declared: nothing set (Lambda defaults to Text)', () => {
    expect(checkLoggingConfig('orders', undefined)).toBeUndefined();
    expect(loggingEnvironment(undefined)).toEqual({});
  });

  test('JSON: both levels default to INFO; logGroup is accepted and ignored', () => {
    expect(checkLoggingConfig('orders', { logFormat: 'JSON', logGroup: '/custom/group' })).toEqual({
      logFormat: 'JSON',
      applicationLogLevel: 'INFO',
      systemLogLevel: 'INFO',
    });
    expect(
      loggingEnvironment(
        checkLoggingConfig('orders', {
          logFormat: 'JSON',
          applicationLogLevel: 'ERROR',
          systemLogLevel: 'WARN',
        }),
      ),
    ).toEqual({
      AWS_LAMBDA_LOG_FORMAT: 'JSON',
      AWS_LAMBDA_LOG_LEVEL: 'ERROR',
      LAMBDA_TESTKIT_SYSTEM_LOG_LEVEL: 'WARN',
    });
    expect(loggingEnvironment(checkLoggingConfig('orders', { logFormat: 'Text' }))).toEqual({
      AWS_LAMBDA_LOG_FORMAT: 'Text',
    });
  });

  test('a level with the Text format is refused, as Lambda refuses it', () => {
    const error = refusal({ applicationLogLevel: 'DEBUG' });
    expect(error.code).toBe(ErrorCodes.LOGGING_CONFIG_INVALID);
    expect(error.message).toMatch(
      /Function "orders": loggingConfig sets applicationLogLevel with the Text log format/,
    );
    expect(error.message).toMatch(/Set logFormat: 'JSON'/);
    expect(refusal({ logFormat: 'Text', systemLogLevel: 'WARN' }).message).toMatch(/sets systemLogLevel/);
  });

  test('unknown values name the allowed ones', () => {
    expect(refusal({ logFormat: 'json' }).message).toMatch(
      /"logFormat" must be one of 'Text', 'JSON'.*got "json"/,
    );
    expect(refusal({ logFormat: 'JSON', systemLogLevel: 'ERROR' }).message).toMatch(
      /"systemLogLevel" must be one of 'DEBUG', 'INFO', 'WARN'/,
    );
    expect(refusal({ logFormat: 'JSON', applicationLogLevel: 'VERBOSE' }).message).toMatch(
      /'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'/,
    );
    expect(refusal({ format: 'JSON' }).message).toMatch(/unknown option "format"/);
    expect(refusal('JSON').message).toMatch(/must be an object/);
    expect(refusal({ logGroup: 3 }).message).toMatch(/"logGroup" must be a string/);
  });
});
