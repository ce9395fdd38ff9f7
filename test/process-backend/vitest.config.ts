import { defineProject } from 'vitest/config';
import { sourceAliases } from '../../vitest.shared.ts';

// Real emulator + real Node handlers as child processes; no Docker needed.
export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: 'process-backend',
    include: ['**/*.test.ts'],
    exclude: ['fixtures/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each test starts emulators and runtimes; on a 2-core machine, files run one after the other.
    fileParallelism: false,
  },
});
