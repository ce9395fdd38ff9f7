import { defineConfig } from 'vitest/config';

// Each suite owns its vitest.config.ts (a "project"); this file only lists where they are.
// `pnpm test` runs them all; `vitest run --project <name>` runs one.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'test/*/vitest.config.ts'],
  },
});
