/**
 * Prints, at the end of each run, per function: invocations, cold starts, warm hits, p50/p95
 * invoke time and errors. The numbers come from the pool host in this (main) process.
 */
import { formatSummary, poolHostSummary } from '@lambda-testkit/core';
import type { Reporter, Vitest } from 'vitest/node';

export default class LambdaTestkitReporter implements Reporter {
  #vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.#vitest = vitest;
  }

  onTestRunEnd(): void {
    const rows = poolHostSummary();
    if (rows.length === 0) return;
    const text = formatSummary(rows);
    if (this.#vitest) this.#vitest.logger.log(`\n${text}\n`);
    else process.stdout.write(`\n${text}\n`);
  }
}
