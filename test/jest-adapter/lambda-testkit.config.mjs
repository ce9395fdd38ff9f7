// The Jest adapter suites' functions. The process backend by default (no image is pullable where
// CI runs); LAMBDA_TESTKIT_BACKEND overrides it.
export default {
  backend: 'process',
  // Not the default region, so the workers' sdkConfig() shows the configured one reached them.
  region: 'eu-west-3',
  functions: {
    echo: { runtime: 'nodejs22.x', code: './fixtures/functions', handler: 'echo.handler' },
    boom: { runtime: 'nodejs22.x', code: './fixtures/functions', handler: 'boom.handler' },
    stream: { runtime: 'nodejs22.x', code: './fixtures/functions', handler: 'stream.handler' },
  },
  // One instance per function, so the stats assertions are exact whatever the worker count.
  maxConcurrency: 1,
};
