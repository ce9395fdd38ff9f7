import { defineProject } from 'vitest/config';
import { sourceAliases } from '../../vitest.shared.ts';

export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: 'core',
    include: ['src/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
