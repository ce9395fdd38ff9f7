import { lambdaTestkit } from '@lambda-testkit/vitest/plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [lambdaTestkit()],
  test: {
    include: ['test/**/*.test.ts'],
    // Listed here, it runs before the plugin's global setup: dynalite is up before the pool starts.
    globalSetup: ['./test/dynamodb-setup.ts'],
    // A cold start on Docker includes starting a container.
    testTimeout: 60_000,
  },
});
