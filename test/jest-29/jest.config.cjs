// The adapter under Jest 29 (this package's own jest), configured as a user would: the preset only.
/** @type {import('jest').Config} */
module.exports = {
  preset: '@lambda-testkit/jest',
  rootDir: __dirname,
  testMatch: ['<rootDir>/tests/**/*.test.js'],
  testTimeout: 60_000,
};
