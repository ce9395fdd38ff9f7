import { describe, expect, test } from 'vitest';
import { toErrorDocument } from './errors.ts';
import { parseHandlerString } from './handler-loader.ts';
import { checkHandlerConvention, conventionFor } from './runtime-loop.ts';

describe('parseHandlerString', () => {
  test('dir/file.fn.nested', () => {
    expect(parseHandlerString('src/handlers/orders.api.create')).toEqual({
      moduleRoot: 'src/handlers',
      moduleName: 'orders',
      functionPath: 'api.create',
    });
    expect(parseHandlerString('index.handler')).toEqual({
      moduleRoot: '',
      moduleName: 'index',
      functionPath: 'handler',
    });
  });

  test('malformed names are Runtime.MalformedHandlerName', () => {
    expect(() => parseHandlerString('../up.handler')).toThrow(
      expect.objectContaining({ name: 'Runtime.MalformedHandlerName' }),
    );
    expect(() => parseHandlerString('index')).toThrow(
      expect.objectContaining({ name: 'Runtime.MalformedHandlerName' }),
    );
  });
});

describe('handler convention', () => {
  test('from AWS_EXECUTION_ENV', () => {
    expect(conventionFor({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' })).toBe('legacy');
    expect(conventionFor({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' })).toBe('modern');
    expect(conventionFor({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x' })).toBe('legacy');
  });

  test('3-parameter handlers are rejected on modern runtimes unless streaming', () => {
    const callbackHandler = (_e: unknown, _c: unknown, _cb: unknown) => undefined;
    expect(() => checkHandlerConvention({ handler: callbackHandler, streaming: false }, 'modern')).toThrow(
      expect.objectContaining({ name: 'Runtime.CallbackHandlerDeprecated' }),
    );
    expect(() =>
      checkHandlerConvention({ handler: callbackHandler, streaming: true }, 'modern'),
    ).not.toThrow();
    expect(() =>
      checkHandlerConvention({ handler: callbackHandler, streaming: false }, 'legacy'),
    ).not.toThrow();
  });
});

describe('toErrorDocument', () => {
  test('Errors keep name, message and stack lines; other values are described by type', () => {
    const error = new RangeError('out of range');
    const doc = toErrorDocument(error);
    expect(doc.errorType).toBe('RangeError');
    expect(doc.errorMessage).toBe('out of range');
    expect(doc.trace[0]).toBe('RangeError: out of range');
    expect(toErrorDocument(42)).toEqual({ errorType: 'number', errorMessage: '42', trace: [] });
  });
});
