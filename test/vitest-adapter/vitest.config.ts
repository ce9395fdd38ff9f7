import { defineProject } from 'vitest/config';
import { sourceAliases } from '../../vitest.shared.ts';

// The Vitest adapter as users meet it: the example and small fixture projects run by a child
// `vitest` against the BUILT packages (`pnpm build` first), on both backends; the pool server
// against the real AWS SDK.
export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: 'vitest-adapter',
    include: ['*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    // Each file starts pools and child Vitest processes: one at a time on a 2-core machine.
    fileParallelism: false,
  },
});
