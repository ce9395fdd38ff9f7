// Ways to wire the adapter other than the example's, each a fixture project run by a child Vitest.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runVitest } from './run-vitest.ts';

const fixture = (name: string) => join(fileURLToPath(new URL('./fixtures', import.meta.url)), name);

beforeAll(assertBuilt);

describe('setups', () => {
  it('without the plugin: the plain globalSetup and reporter entries', async () => {
    // Command-line reporters replace the config's, so ours is named again here.
    const run = await runVitest(fixture('plain-setup'), { reporters: ['@lambda-testkit/vitest/reporter'] });
    expect(run.report.numFailedTests, run.output).toBe(0);
    expect(run.report.numPassedTests).toBe(1);
    expect(run.summary).toEqual([{ function: 'echo', invokes: 1, cold: 1, warm: 0, errors: 0 }]);
  });

  it('Vitest projects: one pool, started once, shared by every project', async () => {
    const run = await runVitest(fixture('projects'));
    expect(run.report.numFailedTests, run.output).toBe(0);
    expect(run.report.numPassedTests).toBe(3);
    expect(run.output.match(/pool server on /g)).toHaveLength(1);
    expect(run.summary).toEqual([{ function: 'echo', invokes: 8, cold: 1, warm: 7, errors: 0 }]);
  });
});
