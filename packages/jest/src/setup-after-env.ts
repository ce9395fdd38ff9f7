// The preset's `setupFilesAfterEnv` entry: runs in each test file's module registry, before the
// file, so it gets the same `lambda` instance the file imports (built with `./index.ts` kept
// external and pointed at `./index.cjs`, see scripts/build.mjs).
import { lambda } from './index.ts';

// `afterAll` is a Jest global here; with `injectGlobals: false` it is absent and the file's
// client is closed when the worker exits instead.
const hooks = globalThis as { afterAll?: (fn: () => Promise<void>) => void };
hooks.afterAll?.(() => lambda.close());
