// Mistakes a user can make, seen through the `lambda` fixture in real child Vitest runs: each
// fixture project's tests assert the exact message; here we check that they ran and passed.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runVitest } from './run-vitest.ts';

const fixture = (name: string) => join(fileURLToPath(new URL('./fixtures', import.meta.url)), name);

beforeAll(assertBuilt);

describe('clear messages from the lambda fixture', () => {
  it('unknown function, oversized payload, non-JSON event', async () => {
    const run = await runVitest(fixture('bad-input'));
    expect(run.report.numFailedTests, run.output).toBe(0);
    expect(run.report.numPassedTests).toBe(4);
  });

  it('wrong token', async () => {
    const run = await runVitest(fixture('wrong-token'));
    expect(run.report.numFailedTests, run.output).toBe(0);
    expect(run.report.numPassedTests).toBe(1);
  });

  it('no plugin and no global setup', async () => {
    const run = await runVitest(fixture('no-setup'));
    expect(run.report.numFailedTests, run.output).toBe(0);
    expect(run.report.numPassedTests).toBe(1);
  });

  it('server not reachable from a worker', async () => {
    const run = await runVitest(fixture('no-server'));
    expect(run.report.numFailedTests, run.output).toBe(0);
    expect(run.report.numPassedTests).toBe(1);
  });
});
