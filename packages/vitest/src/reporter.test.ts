import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquirePoolHost, releasePoolHost } from '@lambda-testkit/core';
import { FakeBackend } from '@lambda-testkit/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import type { Vitest } from 'vitest/node';
import LambdaTestkitReporter from './reporter.ts';

const root = mkdtempSync(join(tmpdir(), 'ltk-reporter-'));

afterAll(() => releasePoolHost({ keepAlive: false }));

describe('LambdaTestkitReporter', () => {
  it('prints the table of the live pool and writes it as JSON', async () => {
    mkdirSync(join(root, 'fn'));
    writeFileSync(join(root, 'fn/index.js'), 'exports.handler = async () => 1;\n');
    const { host } = await acquirePoolHost(
      { functions: { one: { runtime: 'nodejs22.x', handler: 'index.handler', code: './fn' } } },
      { root, backend: new FakeBackend(), log: () => {} },
    );
    await host.pool.invoke('one', Buffer.from('{}'));
    const lines: string[] = [];
    const vitest = { logger: { log: (l: string) => lines.push(l) }, config: { root } } as unknown as Vitest;
    const reporter = new LambdaTestkitReporter({ outputFile: 'summary.json' });
    reporter.onInit(vitest);
    reporter.onTestRunEnd();
    reporter.onTestRunEnd();
    expect(lines[0]).toContain('function  invokes  cold  warm  p50 ms  p95 ms  errors');
    expect(lines[0]).toMatch(/\none\s+1\s+1\s+0\s+\d+\.\d\s+\d+\.\d\s+0\n/);
    expect(lines[1]).toContain('lambda-testkit (totals over the 2 runs this pool served)');
    expect(JSON.parse(readFileSync(join(root, 'summary.json'), 'utf8'))).toEqual({
      backend: 'fake',
      functions: [
        expect.objectContaining({
          function: 'one',
          invocations: 1,
          coldStarts: 1,
          warmHits: 0,
          errors: 0,
          launches: 1,
        }),
      ],
    });
  });
});
