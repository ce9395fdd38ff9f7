// Functions are declared once; every test file invokes them by name. The Jest preset reads the
// same format. Backend: Docker when an engine answers, local processes otherwise
// (override with LAMBDA_TESTKIT_BACKEND=docker|process).
import { defineConfig } from '@lambda-testkit/vitest/plugin';

export default defineConfig({
  functions: {
    'todos-api': { runtime: 'nodejs22.x', code: './src', handler: 'todos-api.handler' },
    'payments-batch': { runtime: 'nodejs22.x', code: './src', handler: 'payments-batch.handler', timeout: 5 },
    slugify: {
      runtime: 'nodejs22.x',
      code: './src',
      handler: 'slugify.handler',
      layers: ['./layers/slug'],
      environment: { SLUG_SEPARATOR: '-' },
    },
  },
  // One instance per function: calls from the three files (running in parallel workers) wait for
  // it instead of starting more. Raise it to test under parallel load.
  maxConcurrency: 1,
});
