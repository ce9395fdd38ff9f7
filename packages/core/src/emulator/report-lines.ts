/**
 * The platform's log records around each invocation, as Lambda writes them to CloudWatch
 * (docs/lambda-apis.md#platform-log-lines): Text lines (`INIT_START`, `START`, `END`, `REPORT`)
 * or, with `AWS_LAMBDA_LOG_FORMAT=JSON`, `platform.*` JSON records filtered by the system log level
 * (docs/lambda-apis.md#logging-configuration). The pool cuts an invocation's logs from the first
 * record to the report, so the formats are a contract (src/instance-logs.ts reads them).
 */
import { createHash } from 'node:crypto';

export type LogFormat = 'Text' | 'JSON';
export type SystemLogLevel = 'DEBUG' | 'INFO' | 'WARN';

export interface PlatformLogConfig {
  format: LogFormat;
  /** Applies to the JSON format only (Lambda filters by level only there). */
  systemLogLevel: SystemLogLevel;
}

const LEVEL_RANK: Record<SystemLogLevel, number> = { DEBUG: 0, INFO: 1, WARN: 2 };

/**
 * Written instead of a `platform.start`/`platform.report` record the system log level drops, so
 * the pool still finds the invocation's bounds; src/instance-logs.ts reads and removes these lines
 * (they never reach a test's logs). The unit separator keeps them apart from anything a handler prints.
 */
export const BOUNDARY_PREFIX = '\u001flambda-testkit ';

/**
 * How an invocation ended, in the words of the Telemetry API's `status`: `failure` for a function
 * error, `error` for a platform one (the runtime ended), `timeout`.
 */
export type InvocationStatus = 'success' | 'failure' | 'error' | 'timeout';

/** How an execution environment was initialized: on an invoke, or ahead of any (init-ahead). */
export type InitializationType = 'on-demand' | 'provisioned-concurrency';

export interface InitStartFigures {
  functionName: string;
  functionVersion: string;
  /** `nodejs:24.v0`: only for a managed runtime (Lambda prints INIT_START with it). */
  runtimeVersion?: string;
  runtimeVersionArn?: string;
  /** @default 'on-demand' */
  initializationType?: InitializationType;
}

export interface ReportFigures {
  requestId: string;
  durationMs: number;
  /** Present on a cold start: from spawning the runtime to its first `/next` (or its failure). */
  initDurationMs?: number;
  memorySizeMb: number;
  /** The runtime's peak resident size (memory-watch.ts); the configured size where it cannot be read. */
  maxMemoryUsedMb: number;
  /** @default 'success' */
  status?: InvocationStatus;
  /** With `status: 'error'`: the error Lambda names on the REPORT line (`Runtime.ExitError`, `Runtime.OutOfMemory`). */
  errorType?: string;
}

/**
 * The runtime version INIT_START names for a managed runtime id (`nodejs24.x` → `nodejs:24.v0`,
 * `python3.13` → `python:3.13.v0`) and a well-formed ARN for it. `v0` is no AWS build: the sandbox
 * runs whatever it was given. OS-only runtimes (`provided.al2023`) get none.
 */
export function runtimeVersionOf(
  runtimeId: string | undefined,
  region: string,
): { runtimeVersion: string; runtimeVersionArn: string } | undefined {
  const match = runtimeId === undefined ? null : /^([a-z]+)(\d+(?:\.\d+)?)(?:\.x)?$/.exec(runtimeId);
  if (!match) return undefined;
  const runtimeVersion = `${match[1]}:${match[2]}.v0`;
  const digest = createHash('sha256').update(`lambda-testkit ${runtimeVersion}`).digest('hex');
  return { runtimeVersion, runtimeVersionArn: `arn:aws:lambda:${region}::runtime:${digest}` };
}

/** Billed duration: the invoke plus, since August 2025, the init of an on-demand cold start. */
export function billedDurationMs(durationMs: number, initDurationMs: number | undefined): number {
  return Math.ceil(durationMs + (initDurationMs ?? 0));
}

/** Formats the platform's records for one sandbox in its configured format and level. */
export class PlatformLog {
  readonly #config: PlatformLogConfig;
  readonly #now: () => Date;

  constructor(config: PlatformLogConfig, now: () => Date = () => new Date()) {
    this.#config = config;
    this.#now = now;
  }

  get json(): boolean {
    return this.#config.format === 'JSON';
  }

  #record(level: SystemLogLevel, type: string, record: Record<string, unknown>): string {
    if (LEVEL_RANK[level] < LEVEL_RANK[this.#config.systemLogLevel]) return '';
    return `${JSON.stringify({ time: this.#now().toISOString(), type, record })}\n`;
  }

  /** The first record of a cold start, before the runtime starts. */
  initStart(f: InitStartFigures): string {
    if (!this.json) {
      return f.runtimeVersion === undefined
        ? ''
        : `INIT_START Runtime Version: ${f.runtimeVersion}\tRuntime Version ARN: ${f.runtimeVersionArn}\n`;
    }
    // Lambda's mapping: INFO when the runtime version is known, DEBUG otherwise.
    return this.#record(f.runtimeVersion === undefined ? 'DEBUG' : 'INFO', 'platform.initStart', {
      initializationType: f.initializationType ?? 'on-demand',
      phase: 'init',
      ...(f.runtimeVersion === undefined
        ? {}
        : { runtimeVersion: f.runtimeVersion, runtimeVersionArn: f.runtimeVersionArn }),
      functionName: f.functionName,
      functionVersion: f.functionVersion,
    });
  }

  /** The end of a cold start's init (JSON only: Text has no line for it). */
  initDone(
    durationMs: number,
    status: InvocationStatus,
    errorType?: string,
    initializationType: InitializationType = 'on-demand',
  ): string {
    if (!this.json) return '';
    const failed = status !== 'success';
    const base = {
      initializationType,
      phase: 'init',
      status,
      ...(errorType ? { errorType } : {}),
    };
    return (
      this.#record(failed ? 'WARN' : 'DEBUG', 'platform.initRuntimeDone', base) +
      this.#record(failed ? 'WARN' : 'DEBUG', 'platform.initReport', {
        ...base,
        metrics: { durationMs: round2(durationMs) },
      })
    );
  }

  start(requestId: string, version: string): string {
    if (!this.json) return `START RequestId: ${requestId} Version: ${version}\n`;
    return (
      this.#record('INFO', 'platform.start', { requestId, version }) ||
      `${BOUNDARY_PREFIX}platform.start ${requestId}\n`
    );
  }

  /** `END` in Text; `platform.runtimeDone` in JSON. */
  end(requestId: string, f: { status: InvocationStatus; errorType?: string; durationMs: number }): string {
    if (!this.json) return `END RequestId: ${requestId}\n`;
    return this.#record(f.status === 'success' ? 'DEBUG' : 'WARN', 'platform.runtimeDone', {
      requestId,
      status: f.status,
      ...(f.errorType ? { errorType: f.errorType } : {}),
      metrics: { durationMs: round2(f.durationMs) },
    });
  }

  report(f: ReportFigures): string {
    const status = f.status ?? 'success';
    const billed = billedDurationMs(f.durationMs, f.initDurationMs);
    if (this.json) {
      const record = this.#record(status === 'success' ? 'INFO' : 'WARN', 'platform.report', {
        requestId: f.requestId,
        metrics: {
          durationMs: round2(f.durationMs),
          billedDurationMs: billed,
          memorySizeMB: f.memorySizeMb,
          maxMemoryUsedMB: f.maxMemoryUsedMb,
          ...(f.initDurationMs === undefined ? {} : { initDurationMs: round2(f.initDurationMs) }),
        },
        status,
        ...(f.errorType ? { errorType: f.errorType } : {}),
      });
      const init = f.initDurationMs === undefined ? '' : ` init=${f.initDurationMs.toFixed(2)}`;
      return record || `${BOUNDARY_PREFIX}platform.report ${f.requestId}${init}\n`;
    }
    // Lambda's order: the metrics, Init Duration after them, then the status of a failed invoke.
    const fields = [
      `Duration: ${f.durationMs.toFixed(2)} ms`,
      `Billed Duration: ${billed} ms`,
      `Memory Size: ${f.memorySizeMb} MB`,
      `Max Memory Used: ${f.maxMemoryUsedMb} MB`,
      ...(f.initDurationMs === undefined ? [] : [`Init Duration: ${f.initDurationMs.toFixed(2)} ms`]),
    ];
    // A function error (`failure`) leaves the Text line as a success's.
    const tail =
      status === 'success' || status === 'failure'
        ? ''
        : `Status: ${status}${status === 'error' && f.errorType ? `\tError Type: ${f.errorType}` : ''}`;
    return `REPORT RequestId: ${f.requestId}\t${fields.map((x) => `${x}\t`).join('')}${tail}\n`;
  }
}

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}
