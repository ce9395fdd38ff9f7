// Native ESM run of the adapter (run by test/jest-runs with `node --experimental-vm-modules`).
/** @type {import('jest').Config} */
module.exports = {
  preset: '@lambda-testkit/jest',
  rootDir: __dirname,
  testMatch: ['<rootDir>/tests-esm/**/*.test.mjs'],
  transform: {},
  testTimeout: 60_000,
};
