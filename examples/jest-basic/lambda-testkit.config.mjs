// One configuration for both runners: the Vitest plugin and the Jest preset read this same file.
/** @type {import('@lambda-testkit/jest').TestkitConfig} */
export default {
  functions: {
    'http-api': { runtime: 'nodejs22.x', code: './src', handler: 'http-api.handler' },
    'sqs-batch': { runtime: 'nodejs22.x', code: './src', handler: 'sqs-batch.handler' },
    greeter: {
      runtime: 'nodejs22.x',
      code: './src',
      handler: 'greeter.handler',
      layers: ['./layers/greeting'],
    },
  },
  // One warm instance per function: calls from the three test files queue for it instead of
  // starting more. Raise it to test under parallel load.
  maxConcurrency: 1,
};
