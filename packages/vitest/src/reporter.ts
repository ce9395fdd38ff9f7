/**
 * Prints, at the end of each run, per function: invocations, cold starts, warm hits, p50/p95
 * invoke time and errors. The numbers come from the pool host in this (main) process, so in watch
 * mode they add up over the reruns that one pool served.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { currentPoolHost, formatSummary, poolHostSummary } from '@lambda-testkit/core/host';
import type { Reporter, Vitest } from 'vitest/node';

export interface LambdaTestkitReporterOptions {
  /**
   * Also write `{ backend, functions: rows }` as JSON to this file (relative to the Vitest root), for
   * CI checks such as "one instance per function".
   * @default undefined (print only)
   */
  outputFile?: string;
}

export default class LambdaTestkitReporter implements Reporter {
  readonly #options: LambdaTestkitReporterOptions;
  #vitest: Vitest | undefined;
  #runs = 0;

  constructor(options: LambdaTestkitReporterOptions = {}) {
    this.#options = options;
  }

  onInit(vitest: Vitest): void {
    this.#vitest = vitest;
  }

  onTestRunEnd(): void {
    const rows = poolHostSummary();
    if (rows.length === 0) return;
    this.#runs += 1;
    const note = this.#runs > 1 ? ` (totals over the ${this.#runs} runs this pool served)` : '';
    const text = formatSummary(rows).replace(/^lambda-testkit/, `lambda-testkit${note}`);
    if (this.#vitest) this.#vitest.logger.log(`\n${text}\n`);
    else process.stdout.write(`\n${text}\n`);
    if (this.#options.outputFile) {
      const file = resolve(this.#vitest?.config.root ?? process.cwd(), this.#options.outputFile);
      const backend = currentPoolHost()?.backendName;
      writeFileSync(file, `${JSON.stringify({ backend, functions: rows }, null, 2)}\n`);
    }
  }
}
