import { describe, expect, it } from 'vitest';
import { BOUNDARY_PREFIX as EMULATOR_BOUNDARY_PREFIX } from './emulator/report-lines.ts';
import { BOUNDARY_PREFIX, LineLog } from './instance-logs.ts';

describe('LineLog', () => {
  it('hands every later whole line to a watcher until it unsubscribes', () => {
    const log = new LineLog();
    log.write('before\n');
    const seen: string[] = [];
    const unwatch = log.watch((line) => seen.push(line));
    log.write('Debugger listening on ws://127.0.0.1:1/a\r\npart');
    log.write('ial\n');
    unwatch();
    log.write('after\n');
    expect(seen).toEqual(['Debugger listening on ws://127.0.0.1:1/a', 'partial']);
  });

  it('cuts one invocation from START to REPORT, across chunk boundaries', async () => {
    const log = new LineLog();
    log.write('noise before\n');
    const cap = log.capture();
    log.write('START RequestId: r-1 Version: $LATEST\nhello');
    log.write(' world\r\nEND RequestId: r-1\nREPORT RequestId: r-1\tDuration: 1 ms\nafter\n');
    const got = await cap.finish(50);
    expect(got.requestId).toBe('r-1');
    expect(got.lines).toEqual([
      'START RequestId: r-1 Version: $LATEST',
      'hello world',
      'END RequestId: r-1',
      'REPORT RequestId: r-1\tDuration: 1 ms',
    ]);
  });

  it('returns what it has when REPORT never comes', async () => {
    const log = new LineLog();
    const cap = log.capture();
    log.write('START RequestId: r-2 Version: $LATEST\npartial\n');
    const got = await cap.finish(20);
    expect(got).toEqual({ requestId: 'r-2', lines: ['START RequestId: r-2 Version: $LATEST', 'partial'] });
  });

  it('a cold start begins at INIT_START, the init output before START is kept, Init Duration is reported', async () => {
    const log = new LineLog();
    const cap = log.capture();
    log.write('INIT_START Runtime Version: nodejs:24.v0\tRuntime Version ARN: arn:x\n');
    log.write('module loaded\nSTART RequestId: r-3 Version: $LATEST\nEND RequestId: r-3\n');
    log.write(
      'REPORT RequestId: r-3\tDuration: 1.00 ms\tBilled Duration: 9 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\tInit Duration: 7.50 ms\t\n',
    );
    const got = await cap.finish(50);
    expect(got.requestId).toBe('r-3');
    expect(got.initReported).toBe(true);
    expect(got.lines.slice(0, 3)).toEqual([
      'INIT_START Runtime Version: nodejs:24.v0\tRuntime Version ARN: arn:x',
      'module loaded',
      'START RequestId: r-3 Version: $LATEST',
    ]);
  });

  it('reads the JSON platform records: initStart, start and a report with initDurationMs', async () => {
    const log = new LineLog();
    const cap = log.capture();
    const t = '"time":"2026-12-01T10:00:00.000Z"';
    log.write(`{${t},"type":"platform.initStart","record":{"phase":"init"}}\n`);
    log.write(`{${t},"type":"platform.start","record":{"requestId":"r-4","version":"$LATEST"}}\n`);
    log.write('{"timestamp":"x","level":"INFO","requestId":"r-4","message":"hi"}\n');
    log.write(
      `{${t},"type":"platform.report","record":{"requestId":"r-4","metrics":{"initDurationMs":3}}}\n`,
    );
    const got = await cap.finish(50);
    expect(got).toMatchObject({ requestId: 'r-4', initReported: true });
    expect(got.lines).toHaveLength(4);
  });

  it('uses the boundary lines of dropped records and never keeps or shows them', async () => {
    const log = new LineLog();
    const seen: string[] = [];
    log.watch((line) => seen.push(line));
    const cap = log.capture();
    log.write(`${BOUNDARY_PREFIX}platform.start r-5\n{"level":"WARN","message":"careful"}\n`);
    log.write(`${BOUNDARY_PREFIX}platform.report r-5\nlater\n`);
    const got = await cap.finish(50);
    expect(got).toEqual({ requestId: 'r-5', lines: ['{"level":"WARN","message":"careful"}'] });
    expect(seen).toEqual(['{"level":"WARN","message":"careful"}', 'later']);
  });

  it("shares the emulator's boundary prefix", () => {
    expect(BOUNDARY_PREFIX).toBe(EMULATOR_BOUNDARY_PREFIX);
  });
});
