/**
 * Loads a dependency where a feature first needs it, not with the entry that reaches the feature
 * (docs/architecture.md#loading-on-first-use). Node's own `require`, which loads ES modules too
 * (Node >= 22.12), rather than `import()`: when this repository's suites run core from its sources,
 * Vite's module runner rewrites `import()` into a call to itself, and the run's host outlives that
 * runner across a Vitest config restart (watch mode), so a dependency first needed after the restart
 * would not load. `require` caches what it loaded.
 */
import { createRequire } from 'node:module';

const requireFromCore = createRequire(import.meta.url);

/** `specifier` (one of core's dependencies), loaded now if not yet; `T` is its `typeof import(…)`. */
export function loadOnFirstUse<T>(specifier: string): T {
  return requireFromCore(specifier) as T;
}
