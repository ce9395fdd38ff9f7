// `preset: '@lambda-testkit/jest'`. Plain CommonJS on purpose: Jest loads presets without
// transforming them. It adds the pool's globalSetup/globalTeardown, the per-file setup that closes
// the `lambda` helper's connection, and the end-of-run summary reporter. It does NOT set
// `testEnvironment`, so projects on jsdom (or any other environment) keep theirs.
//
// Jest concatenates `setupFilesAfterEnv` of preset and config, but `reporters` from your config
// replace this list: keep `require('@lambda-testkit/jest/reporter')`'s path in yours (README, "Jest").
const { join } = require('node:path');

const dist = join(__dirname, 'dist');

module.exports = {
  globalSetup: join(dist, 'global-setup.js'),
  globalTeardown: join(dist, 'global-teardown.js'),
  setupFilesAfterEnv: [join(dist, 'setup-after-env.cjs')],
  reporters: ['default', join(dist, 'reporter.js')],
};
