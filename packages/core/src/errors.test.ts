import { describe, expect, it } from 'vitest';
import {
  BackendError,
  ConfigError,
  ErrorCodes,
  InvokeError,
  isTestkitError,
  LambdaTestkitError,
  reviveTestkitError,
} from './errors.ts';

describe('errors', () => {
  it('keeps a stable code, a name per class and structured details', () => {
    const e = new ConfigError(ErrorCodes.UNKNOWN_FUNCTION, 'no function "x"', { details: { name: 'x' } });
    expect(e.code).toBe('LTK_UNKNOWN_FUNCTION');
    expect(e.name).toBe('ConfigError');
    expect(e.details).toEqual({ name: 'x' });
    expect(e).toBeInstanceOf(Error);
  });

  it('answers instanceof by brand, per class and for the base class', () => {
    const e = new BackendError(ErrorCodes.LAUNCH_FAILED, 'x');
    expect(e instanceof LambdaTestkitError).toBe(true);
    expect(e instanceof BackendError).toBe(true);
    expect(e instanceof ConfigError).toBe(false);
    expect({ code: 'LTK_LAUNCH_FAILED' } instanceof LambdaTestkitError).toBe(false);
  });

  it('survives a round trip through JSON as the same class', () => {
    const e = new InvokeError(ErrorCodes.POOL_STOPPED, 'stopped', { details: { fn: 'a' } });
    const back = reviveTestkitError(JSON.parse(JSON.stringify(e)));
    expect(back instanceof InvokeError).toBe(true);
    expect(back.message).toBe('stopped');
    expect(isTestkitError(back, ErrorCodes.POOL_STOPPED)).toBe(true);
    expect(isTestkitError(back, ErrorCodes.LAUNCH_FAILED)).toBe(false);
  });
});
