import { defineProject } from 'vitest/config';
import { sourceAliases } from '../../vitest.shared.ts';

// DockerBackend against the real engine, on the locally built image (no registry is reachable in CI).
// Fails loudly when no engine answers: the global setup hands the DOCKER_UNAVAILABLE message to the
// test files, and every test fails with it (none is skipped).
export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: 'docker',
    include: ['**/*.test.ts'],
    exclude: ['fixtures/**', 'node_modules/**'],
    globalSetup: ['./global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Containers on a 2-core machine: files run one after the other.
    fileParallelism: false,
    env: { TESTCONTAINERS_RYUK_DISABLED: 'true' },
  },
});
