import { defineProject } from 'vitest/config';
import { sourceAliases } from '../../vitest.shared.ts';

// Spawns Jest the way users run it (the example on both backends, native ESM) and drives the Jest
// adapter's globalSetup/globalTeardown through a watch-mode lifecycle.
export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: 'jest-runs',
    include: ['*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    // Each file starts its own pool and Jest processes: one at a time on a 2-core machine.
    fileParallelism: false,
  },
});
