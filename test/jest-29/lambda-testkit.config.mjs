// Same functions as the Jest 30 suite (test/jest-adapter), on the process backend by default.
export default {
  backend: 'process',
  functions: {
    echo: { runtime: 'nodejs22.x', code: '../jest-adapter/fixtures/functions', handler: 'echo.handler' },
    boom: { runtime: 'nodejs22.x', code: '../jest-adapter/fixtures/functions', handler: 'boom.handler' },
  },
  maxConcurrency: 1,
};
