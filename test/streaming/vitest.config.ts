import { defineProject } from 'vitest/config';
import { sourceAliases } from '../../vitest.shared.ts';

// Response streaming through every layer on the process backend: emulator, pool, pool server,
// PoolClient.invokeStream and the real AWS SDK's InvokeWithResponseStreamCommand. (The Docker
// backend's streaming test is in test/docker, which builds the local image.)
export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: 'streaming',
    include: ['*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
