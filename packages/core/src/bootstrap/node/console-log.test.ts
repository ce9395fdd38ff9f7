import { afterEach, describe, expect, test, vi } from 'vitest';
import { consoleSettings, jsonLine, patchConsole, textLine } from './console-log.ts';

const T = '2026-12-01T10:00:00.000Z';

describe('console lines', () => {
  test('Text: time, request id, level, message, tab-separated', () => {
    expect(textLine(T, 'INFO', 'id-1', 'hello 1')).toBe(`${T}\tid-1\tINFO\thello 1`);
    expect(textLine(T, 'WARN', undefined, 'during init')).toBe(`${T}\tundefined\tWARN\tduring init`);
  });

  test('JSON: timestamp, level, requestId, message; a lone object stays structured', () => {
    expect(JSON.parse(jsonLine(T, 'INFO', 'id-1', ['hello %d', 1]))).toEqual({
      timestamp: T,
      level: 'INFO',
      requestId: 'id-1',
      message: 'hello 1',
    });
    expect(JSON.parse(jsonLine(T, 'DEBUG', 'id-1', [{ a: 1 }]))).toMatchObject({ message: { a: 1 } });
    // During init there is no request id: the key is left out.
    expect(JSON.parse(jsonLine(T, 'INFO', undefined, ['x']))).not.toHaveProperty('requestId');
  });

  test('JSON: a logged error carries errorType, errorMessage and stackTrace', () => {
    const error = new TypeError('bad input');
    const alone = JSON.parse(jsonLine(T, 'ERROR', 'id-1', [error])) as { message: Record<string, unknown> };
    expect(alone.message).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad input' });
    expect(Array.isArray(alone.message.stackTrace)).toBe(true);
    const withText = JSON.parse(jsonLine(T, 'ERROR', 'id-1', ['failed:', error]));
    expect(withText).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad input' });
    expect(withText.message).toMatch(/^failed: TypeError: bad input/);
  });

  test('JSON: a circular value is formatted instead of failing', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(JSON.parse(jsonLine(T, 'INFO', 'id-1', [loop])).message).toContain('[Circular');
  });

  test('settings: the format in any case; an unknown or missing level lets everything through', () => {
    expect(consoleSettings({})).toEqual({ json: false, minLevel: 'TRACE' });
    expect(consoleSettings({ AWS_LAMBDA_LOG_FORMAT: 'json', AWS_LAMBDA_LOG_LEVEL: 'warn' })).toEqual({
      json: true,
      minLevel: 'WARN',
    });
    expect(consoleSettings({ AWS_LAMBDA_LOG_LEVEL: 'LOUD' }).minLevel).toBe('TRACE');
  });
});

describe('patchConsole', () => {
  const saved = { ...console };
  afterEach(() => {
    Object.assign(console, saved);
    vi.restoreAllMocks();
  });

  function captured(env: NodeJS.ProcessEnv, log: () => void): string[] {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    patchConsole(() => 'id-7', env);
    log();
    vi.restoreAllMocks();
    return lines.join('').trimEnd().split('\n').filter(Boolean);
  }

  test('JSON at WARN: debug and info are dropped, warn, error and fatal kept', () => {
    const lines = captured({ AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'WARN' }, () => {
      console.debug('d');
      console.log('l');
      console.info('i');
      console.warn('w');
      console.error('e');
      (console as unknown as { fatal: (m: string) => void }).fatal('f');
    });
    expect(lines.map((l) => JSON.parse(l) as { level: string; message: string })).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'w', requestId: 'id-7' }),
      expect.objectContaining({ level: 'ERROR', message: 'e' }),
      expect.objectContaining({ level: 'FATAL', message: 'f' }),
    ]);
  });

  test('Text without a level: every line, console.log as INFO', () => {
    const lines = captured({}, () => {
      console.debug('d');
      console.log('l');
    });
    expect(lines).toEqual([
      expect.stringMatching(/\tid-7\tDEBUG\td$/),
      expect.stringMatching(/\tid-7\tINFO\tl$/),
    ]);
  });
});
