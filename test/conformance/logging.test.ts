/**
 * Lambda's logging configuration (docs/lambda-apis.md#logging-configuration), with both runtime
 * clients behind the emulator: aws-lambda-ric@4 reads AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL
 * itself, so its console lines are the reference for lambda-testkit's own bootstrap; the platform's
 * records (INIT_START, START, REPORT or their platform.* JSON forms) come from the emulator either way.
 */
import { afterEach, describe, expect, test } from 'vitest';
import {
  CLIENTS,
  type EmulatorUnderTest,
  type RuntimeClient,
  type StartOptions,
  startEmulator,
} from './harness.ts';

interface JsonLine {
  time?: string;
  type?: string;
  record?: Record<string, unknown> & { metrics?: Record<string, unknown> };
  timestamp?: string;
  level?: string;
  requestId?: string;
  message?: unknown;
  errorType?: string;
  errorMessage?: string;
  stackTrace?: string[];
}

/** What each client prints for the same handler, to compare the two. */
const appLines = new Map<string, JsonLine[]>();

describe.each(CLIENTS)('logging configuration with the $name runtime client', (client: RuntimeClient) => {
  const running: EmulatorUnderTest[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((e) => e.close()));
  });

  async function start(handler: string, env: Record<string, string>): Promise<EmulatorUnderTest> {
    const options: StartOptions = { handler, client, env: { LAMBDA_TESTKIT_RUNTIME: 'nodejs22.x', ...env } };
    const emulator = await startEmulator(options);
    running.push(emulator);
    return emulator;
  }

  /** stdout's lines once the `n`th report (Text or JSON) is out. */
  async function linesAfterReports(emulator: EmulatorUnderTest, n: number, json: boolean): Promise<string[]> {
    const report = json ? '^\\{"time":"[^"]+","type":"platform\\.report"' : '^REPORT RequestId: ';
    await emulator.waitForStdout(new RegExp(`(?:${report}[^\\n]*\\n[\\s\\S]*){${n}}`, 'm'));
    return emulator.stdout.split('\n').filter((l) => l !== '');
  }

  test('Text: INIT_START, the init output, START; REPORT with Init Duration after the metrics', async () => {
    const emulator = await start('logging.levels', {});
    const answer = await emulator.invoke({});
    expect(answer.text).toBe('"logged"');
    const lines = await linesAfterReports(emulator, 1, false);
    expect(lines[0]).toMatch(
      /^INIT_START Runtime Version: nodejs:22\.v0\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:[0-9a-f]{64}$/,
    );
    const initLine = lines.findIndex((l) => l.endsWith('\tinit line'));
    const startLine = lines.findIndex((l) => l.startsWith('START RequestId: '));
    expect(initLine).toBeGreaterThan(0);
    expect(startLine).toBeGreaterThan(initLine);
    // No level is set with Text: every console line is printed, in the runtime's text format.
    for (const level of ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']) {
      expect(lines.some((l) => new RegExp(`^\\S+\\t[0-9a-f-]{36}\\t${level}\\t`).test(l))).toBe(true);
    }
    expect(lines.at(-1)).toMatch(
      /^REPORT RequestId: \S+\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t$/,
    );
  });

  test('Text timeout: REPORT lasts exactly the timeout and ends with Status: timeout', async () => {
    const emulator = await start('logging.hang', { AWS_LAMBDA_FUNCTION_TIMEOUT: '1' });
    expect((await emulator.invoke({ hang: true })).text).toBe('Task timed out after 1.00 seconds');
    const lines = await linesAfterReports(emulator, 1, false);
    expect(lines.at(-2)).toMatch(/^END RequestId: /);
    expect(lines.at(-1)).toMatch(
      /^REPORT RequestId: \S+\tDuration: 1000\.00 ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\tStatus: timeout$/,
    );
  });

  test('JSON at INFO/WARN: platform.* records and the console as JSON, below WARN dropped', async () => {
    const emulator = await start('logging.levels', {
      AWS_LAMBDA_LOG_FORMAT: 'JSON',
      AWS_LAMBDA_LOG_LEVEL: 'WARN',
      LAMBDA_TESTKIT_SYSTEM_LOG_LEVEL: 'INFO',
    });
    await emulator.invoke({});
    await emulator.invoke({});
    const lines = (await linesAfterReports(emulator, 2, true)).map((l) => JSON.parse(l) as JsonLine);
    const platform = lines.filter((l) => l.type !== undefined);
    expect(platform.map((l) => l.type)).toEqual([
      'platform.initStart',
      'platform.start',
      'platform.report',
      'platform.start',
      'platform.report',
    ]);
    expect(platform[0]?.record).toMatchObject({
      initializationType: 'on-demand',
      phase: 'init',
      runtimeVersion: 'nodejs:22.v0',
      functionName: 'conformance-fn',
      functionVersion: '$LATEST',
    });
    const [cold, warm] = [platform[2]?.record, platform[4]?.record];
    expect(cold).toMatchObject({ status: 'success', metrics: { memorySizeMB: 256 } });
    expect(cold?.metrics?.initDurationMs).toEqual(expect.any(Number));
    expect(warm?.metrics).not.toHaveProperty('initDurationMs');
    // The init line is INFO: dropped; so are trace, debug, info and log.
    const app = lines.filter((l) => l.type === undefined);
    expect(
      app.map((l) => [l.level, typeof l.message === 'string' ? l.message.split('\n')[0] : l.message]),
    ).toEqual([
      ['WARN', 'warn line'],
      ['ERROR', 'error line TypeError: bad input'],
      ['WARN', 'warn line'],
      ['ERROR', 'error line TypeError: bad input'],
    ]);
    expect(app[1]).toMatchObject({
      requestId: platform[1]?.record?.requestId,
      errorType: 'TypeError',
      errorMessage: 'bad input',
    });
    expect(app[1]?.stackTrace?.[0]).toBe('TypeError: bad input');
    appLines.set(client.name, app);
  });

  test('JSON with the system level at WARN: a success prints no platform record, a timeout does', async () => {
    const emulator = await start('logging.hang', {
      AWS_LAMBDA_LOG_FORMAT: 'JSON',
      AWS_LAMBDA_LOG_LEVEL: 'INFO',
      LAMBDA_TESTKIT_SYSTEM_LOG_LEVEL: 'WARN',
      AWS_LAMBDA_FUNCTION_TIMEOUT: '1',
    });
    expect((await emulator.invoke({})).text).toBe('"done"');
    expect((await emulator.invoke({ hang: true })).text).toBe('Task timed out after 1.00 seconds');
    const lines = await linesAfterReports(emulator, 1, true);
    const records = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as JsonLine);
    // The init line (INFO), then only the timed-out invocation's: its WARN line and its failed records.
    expect(records.map((l) => l.type ?? l.level)).toEqual([
      'INFO',
      'WARN',
      'platform.runtimeDone',
      'platform.report',
    ]);
    expect(records[3]?.record).toMatchObject({ status: 'timeout', metrics: { durationMs: 1000 } });
    // The dropped start and report records left only the emulator's boundary lines (the pool removes them).
    expect(lines.filter((l) => l.startsWith('\u001flambda-testkit ')).map((l) => l.split(' ')[1])).toEqual([
      'platform.start',
      'platform.report',
      'platform.start',
    ]);
  });
});

test('both clients print the same JSON console lines (aws-lambda-ric@4 is the reference)', () => {
  const own = appLines.get('own');
  const ric = appLines.get('ric');
  expect(own).toBeDefined();
  const shape = (lines: JsonLine[] | undefined) =>
    lines?.map((l) => ({
      keys: Object.keys(l).sort(),
      level: l.level,
      message: typeof l.message === 'string' ? l.message.split('\n')[0] : l.message,
      errorType: l.errorType,
    }));
  expect(shape(own)).toEqual(shape(ric));
});
