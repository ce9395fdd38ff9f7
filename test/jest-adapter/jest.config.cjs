// Jest 30 (package `test/`) through the preset exactly as a user would configure it: CommonJS test
// files through babel-jest (Jest's default transform) and TypeScript ones through ts-jest.
// The native-ESM file (tests-esm/) needs `node --experimental-vm-modules`; test/jest-runs runs it
// with jest.esm.config.cjs.
const { join } = require('node:path');

/** @type {import('jest').Config} */
module.exports = {
  preset: '@lambda-testkit/jest',
  rootDir: __dirname,
  testMatch: ['<rootDir>/tests/**/*.test.{js,ts}'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: join(__dirname, 'tests/tsconfig.json') }],
    // The string 'babel-jest' is resolved by Jest itself (from its own dependencies).
    '^.+\\.js$': 'babel-jest',
  },
  testTimeout: 60_000,
};
