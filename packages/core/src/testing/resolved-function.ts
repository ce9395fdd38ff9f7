import { DEFAULT_MEMORY_SIZE_MB, DEFAULT_TIMEOUT_SECONDS, type ResolvedFunction } from '../function-spec.ts';

/**
 * A ResolvedFunction for tests that never read its code (fake backends, image and environment
 * decisions): `orders`, nodejs22.x, `index.handler`, an empty zip, deploy id `deploy-1`, with
 * `overrides` on top.
 */
export function resolvedFunction(overrides: Partial<ResolvedFunction> = {}): ResolvedFunction {
  return {
    name: 'orders',
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    environment: {},
    timeout: DEFAULT_TIMEOUT_SECONDS,
    memorySize: DEFAULT_MEMORY_SIZE_MB,
    architecture: 'x86_64',
    code: { source: '/dev/null', zip: Buffer.alloc(0), sha256: '' },
    layers: [],
    deployId: 'deploy-1',
    ...overrides,
  };
}
