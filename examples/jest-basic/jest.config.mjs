/** @type {import('jest').Config} */
export default {
  preset: '@lambda-testkit/jest',
  testMatch: ['<rootDir>/test/**/*.test.js'],
  // Cold starts of a real sandbox take a few seconds on the first call.
  testTimeout: 30_000,
};
