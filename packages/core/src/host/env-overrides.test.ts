import { describe, expect, it } from 'vitest';
import { isTestkitError } from '../errors.ts';
import type { FunctionSpec } from '../function-spec.ts';
import { ENV_DEBUG, ENV_DEBUG_WAIT, withDebugOverride } from './env-overrides.ts';

const spec = (name: string, extra: Partial<FunctionSpec> = {}): FunctionSpec => ({
  name,
  runtime: 'nodejs22.x',
  handler: 'index.handler',
  code: './x',
  ...extra,
});

describe('withDebugOverride', () => {
  const specs = [
    spec('orders', { aliases: ['OrdersFunction'] }),
    spec('users'),
    spec('audit', { debug: true }),
  ];

  it('leaves specs alone when neither variable is set', () => {
    expect(withDebugOverride(specs, {})).toBe(specs);
  });

  it('turns debug on for the named functions, by name or alias, keeping declared ones', () => {
    const out = withDebugOverride(specs, { [ENV_DEBUG]: ' OrdersFunction , users' });
    expect(out.map((s) => [s.name, s.debug])).toEqual([
      ['orders', {}],
      ['users', {}],
      ['audit', {}],
    ]);
  });

  it('makes every debugged function wait with LAMBDA_TESTKIT_DEBUG_WAIT', () => {
    const out = withDebugOverride(specs, { [ENV_DEBUG]: 'orders', [ENV_DEBUG_WAIT]: '1' });
    expect(out.map((s) => [s.name, s.debug])).toEqual([
      ['orders', { wait: true }],
      ['users', undefined],
      ['audit', { wait: true }],
    ]);
    expect(withDebugOverride(specs, { [ENV_DEBUG_WAIT]: 'false' })).toBe(specs);
  });

  it('rejects a name no function has, listing the known ones', () => {
    let error: unknown;
    try {
      withDebugOverride(specs, { [ENV_DEBUG]: 'order' });
    } catch (e) {
      error = e;
    }
    expect(isTestkitError(error) && error.code).toBe('LTK_UNKNOWN_FUNCTION');
    expect((error as Error).message).toContain('Known functions: orders, users, audit');
  });
});
