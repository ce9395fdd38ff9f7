import { defineProject } from 'vitest/config';
import { sourceAliases } from '../../vitest.shared.ts';

// One suite, run against two runtime clients behind the emulator: the own Node bootstrap and AWS's
// aws-lambda-ric@4. Child processes only; no Docker.
export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: 'conformance',
    include: ['**/*.test.ts'],
    exclude: ['fixtures/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Every test spawns an emulator and a runtime; on a 2-core machine, files run one after the other.
    fileParallelism: false,
  },
});
