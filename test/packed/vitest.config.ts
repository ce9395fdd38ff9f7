import { defineProject } from 'vitest/config';

// The packages as npm users get them: `pnpm pack` tarballs installed into a fresh project outside
// this workspace (no source-first resolution, no workspace links), used as the README shows.
// Needs the build (`pnpm build`; `pnpm test` builds before its Vitest step).
export default defineProject({
  test: {
    name: 'packed',
    include: ['*.test.ts'],
    testTimeout: 300_000,
    // Packing three packages and installing a project (offline, from the store) happens in beforeAll.
    hookTimeout: 600_000,
  },
});
