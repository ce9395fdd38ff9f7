/**
 * `lambdaTestkit()` for `vitest.config`: adds the global setup (which starts the pool and server)
 * and the end-of-run reporter.
 *
 * Imported from `@lambda-testkit/vitest/plugin`, not the package root: the root module builds the
 * `test` fixture with `test.extend`, which Vitest only allows inside a test worker.
 */
import { fileURLToPath } from 'node:url';
import type { TestkitConfig } from '@lambda-testkit/core';
import type { Plugin } from 'vitest/config';
import { registerPluginOptions } from './plugin-options.ts';
import type { LambdaTestkitReporterOptions } from './reporter.ts';

export interface LambdaTestkitPluginOptions extends TestkitConfig {
  /**
   * A config file to read instead of discovering `lambda-testkit.config.*` from the Vitest root.
   * Ignored when functions are given inline.
   */
  configFile?: string;
  /**
   * Print the per-function table (cold starts, warm hits, p50/p95, errors) at the end of each run;
   * `{ outputFile }` also writes it as JSON. `false` leaves the reporters alone.
   * @default true
   */
  reporter?: boolean | LambdaTestkitReporterOptions;
}

// Sources (this repository's own suites) or the built `dist`, whichever this module was loaded from.
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
/** Absolute path of the global setup module (Vitest keeps absolute globalSetup paths as they are). */
export const globalSetupPath: string = fileURLToPath(new URL(`./global-setup${ext}`, import.meta.url));
const reporterPath: string = fileURLToPath(new URL(`./reporter${ext}`, import.meta.url));

export type { TestkitConfig } from '@lambda-testkit/core';
// From the light entry: the host's (loadConfig, the pool) loads with the global setup, not the config.
export { defineConfig } from '@lambda-testkit/core/config';
export type { LambdaTestkitReporterOptions } from './reporter.ts';

/** Core's `ENV_DEBUG`, spelled out: the plugin loads in the Vite config and imports core's types only. */
export const DEBUG_VARIABLE = 'LAMBDA_TESTKIT_DEBUG';

/** Whether the run debugs a function the plugin can see: `LAMBDA_TESTKIT_DEBUG`, or `debug` in inline functions. */
function debugging(config: TestkitConfig, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env[DEBUG_VARIABLE]?.trim()) return true;
  return Object.values(config.functions ?? {}).some((fn) => fn?.debug !== undefined && fn.debug !== false);
}

const reporterAdded = new WeakSet<object>();
/** The reporter's public entry, for users who list it themselves (then it is not added twice). */
const REPORTER_SPECIFIER = '@lambda-testkit/vitest/reporter';

export function lambdaTestkit(options: LambdaTestkitPluginOptions = {}): Plugin {
  const { configFile, reporter = true, ...config } = options;
  const hasInline = Object.keys(config).length > 0;
  return {
    name: 'lambda-testkit',
    config() {
      // The config hook (not configureVitest) for globalSetup: resolved paths are not resolved
      // again after configureVitest (docs/runner-integration.md#vitest-plugin-hooks).
      // While a function is debugged, a test paused at a breakpoint must not time out: 0 turns
      // Vitest's test and hook timeouts off.
      const timeouts = debugging(config) ? { testTimeout: 0, hookTimeout: 0 } : {};
      return { test: { globalSetup: [globalSetupPath], ...timeouts } };
    },
    configResolved(resolved) {
      registerPluginOptions(resolved.root, { config: hasInline ? config : undefined, configFile });
    },
    configureVitest({ vitest }) {
      // Push onto config.reporters: `vitest.reporters` is rebuilt from it afterwards
      // (docs/runner-integration.md#vitest-plugin-hooks). Once per Vitest instance, although this hook runs
      // once per project.
      if (!reporter || reporterAdded.has(vitest)) return;
      reporterAdded.add(vitest);
      const listed = vitest.config.reporters.some((r) => {
        const name = Array.isArray(r) ? r[0] : r;
        return name === REPORTER_SPECIFIER || name === reporterPath;
      });
      if (!listed) vitest.config.reporters.push([reporterPath, reporter === true ? {} : { ...reporter }]);
    },
  };
}
