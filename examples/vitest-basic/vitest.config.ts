import { lambdaTestkit } from '@lambda-testkit/vitest/plugin';
import { defineConfig } from 'vitest/config';

// The plugin starts the pool once per run (functions come from lambda-testkit.config.ts) and
// prints cold starts, warm hits and p50/p95 per function at the end.
export default defineConfig({
  plugins: [lambdaTestkit()],
  test: {
    include: ['test/**/*.test.ts'],
    // A cold start on Docker includes starting a container.
    testTimeout: 60_000,
  },
});
