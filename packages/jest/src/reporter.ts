/**
 * The preset's reporter: prints the same end-of-run summary as the Vitest reporter (`formatSummary`
 * from core) under Jest's own. Reporters run in Jest's main process and `onRunComplete` fires before
 * globalTeardown (docs/runner-integration.md#jest-global-setup, docs/runner-integration.md#jest-reporters),
 * so the pool's counters are still live.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { currentPoolHost, formatSummary, poolHostSummary } from '@lambda-testkit/core/host';
import type { JestGlobalConfig } from './jest-types.ts';
import { getRunState } from './run-state.ts';

export interface LambdaTestkitReporterOptions {
  /**
   * Also write `{ backend, functions: rows }` as JSON to this file (relative to Jest's `rootDir`), for CI checks
   * such as "one instance per function": `['@lambda-testkit/jest/reporter', { outputFile: 'ltk.json' }]`.
   * @default undefined (print only)
   */
  outputFile?: string;
}

export default class LambdaTestkitReporter {
  readonly #globalConfig: JestGlobalConfig;
  readonly #options: LambdaTestkitReporterOptions;

  constructor(globalConfig: JestGlobalConfig, options?: LambdaTestkitReporterOptions) {
    this.#globalConfig = globalConfig;
    this.#options = options ?? {};
  }

  onRunComplete(): void {
    // No state: the preset's globalSetup did not run (no test selected, or it was replaced).
    if (!getRunState()) return;
    const rows = poolHostSummary();
    process.stderr.write(`\n${formatSummary(rows)}\n`);
    if (this.#options.outputFile) {
      const file = resolve(this.#globalConfig.rootDir, this.#options.outputFile);
      const backend = currentPoolHost()?.backendName;
      writeFileSync(file, `${JSON.stringify({ backend, functions: rows }, null, 2)}\n`);
    }
  }

  getLastError(): Error | undefined {
    return undefined;
  }
}
