import { defineProject } from 'vitest/config';
import { sourceAliases } from '../../vitest.shared.ts';

// Function sources on real inputs: a SAM template and a CDK assembly shaped like `sam init` and
// `cdk synth` output, TypeScript entries bundled by esbuild and run by the process backend.
export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: 'sources',
    include: ['**/*.test.ts'],
    exclude: ['fixtures/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // esbuild builds and child processes; on a 2-core machine, files run one after the other.
    fileParallelism: false,
  },
});
