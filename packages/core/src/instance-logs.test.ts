import { describe, expect, it } from 'vitest';
import { LineLog } from './instance-logs.ts';

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
});
