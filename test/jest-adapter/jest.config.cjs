// Jest 30 (package `test/`) with the preset COMPOSED with ts-jest's, as the README documents for
// users who already have a preset: CommonJS test files through babel-jest, TypeScript ones through
// ts-jest. (examples/jest-basic and test/jest-29 use `preset: '@lambda-testkit/jest'` alone.)
// The native-ESM file (tests-esm/) needs `node --experimental-vm-modules`: test/jest-runs runs it
// with jest.esm.config.cjs.
const { join } = require('node:path');
const { createDefaultPreset } = require('ts-jest');
const lambdaTestkit = require('@lambda-testkit/jest/jest-preset');

const tsJest = createDefaultPreset({ tsconfig: join(__dirname, 'tests/tsconfig.json') });

/** @type {import('jest').Config} */
module.exports = {
  ...tsJest,
  globalSetup: lambdaTestkit.globalSetup,
  globalTeardown: lambdaTestkit.globalTeardown,
  setupFilesAfterEnv: [...lambdaTestkit.setupFilesAfterEnv],
  reporters: lambdaTestkit.reporters,
  rootDir: __dirname,
  testMatch: ['<rootDir>/tests/**/*.test.{js,ts}'],
  transform: {
    ...tsJest.transform,
    // The string 'babel-jest' is resolved by Jest itself (from its own dependencies).
    '^.+\\.js$': 'babel-jest',
  },
  testTimeout: 60_000,
};
