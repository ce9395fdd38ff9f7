// Watch mode as Vitest drives it (createVitest with watch: true, in a child process): reruns keep
// instances warm, a code edit starts a rerun and gets a fresh instance, a config restart keeps the
// pool, close stops it.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt } from './run-vitest.ts';

interface WatchReport {
  url1: string;
  url3: string;
  launches1: number;
  launches2: number;
  launches3: number;
  hostAfterClose: boolean;
  runs: { version: number; instanceId: string; coldStart: boolean }[];
}

describe('watch mode', () => {
  let report: WatchReport;
  let output = '';

  beforeAll(async () => {
    assertBuilt();
    const work = mkdtempSync(join(tmpdir(), 'ltk-watch-'));
    // The handler's folder holds only the handler: anything else there would change its deploy id.
    const fnDir = join(work, 'fn');
    mkdirSync(fnDir);
    const cwd = fileURLToPath(new URL('./fixtures/watch', import.meta.url));
    const child = spawn(process.execPath, ['driver.mjs'], {
      cwd,
      env: {
        ...process.env,
        NO_COLOR: '1',
        WATCH_FN_DIR: fnDir,
        WATCH_OUT: join(work, 'runs.jsonl'),
        LAMBDA_TESTKIT_BACKEND: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    const line = output.split('\n').find((l) => l.startsWith('WATCH-REPORT '));
    if (code !== 0 || !line) throw new Error(`the watch driver failed (exit ${code}):\n${output}`);
    report = JSON.parse(line.slice('WATCH-REPORT '.length)) as WatchReport;
  });

  it('runs the tests three times: start, rerun after a code edit, after a config restart', () => {
    expect(
      report.runs.map((r) => r.version),
      output,
    ).toEqual([1, 2, 2]);
  });

  it('gives edited code a fresh instance on the rerun', () => {
    const [first, second] = report.runs;
    expect(first?.coldStart).toBe(true);
    expect(second?.coldStart).toBe(true);
    expect(second?.instanceId).not.toBe(first?.instanceId);
    expect(report.launches2).toBe(report.launches1 + 1);
  });

  it('keeps the pool and its warm instance across a config restart', () => {
    const [, second, third] = report.runs;
    expect(report.url3).toBe(report.url1);
    expect(third?.coldStart).toBe(false);
    expect(third?.instanceId).toBe(second?.instanceId);
    expect(report.launches3).toBe(report.launches2);
  });

  it('stops everything when Vitest closes', () => {
    expect(report.hostAfterClose).toBe(false);
  });
});
