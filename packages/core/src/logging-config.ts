/**
 * A function's logging configuration, as Lambda's `LoggingConfig` (CloudFormation
 * `AWS::Lambda::Function.LoggingConfig`, SAM `LoggingConfig`, the Lambda API's `LoggingConfig`), and
 * the variables that carry it into the sandbox (docs/lambda-apis.md#logging-configuration).
 */
import { ConfigError, ErrorCodes } from './errors.ts';

export const LOG_FORMATS = ['Text', 'JSON'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Lambda's application log levels, most detail first. */
export const APPLICATION_LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type ApplicationLogLevel = (typeof APPLICATION_LOG_LEVELS)[number];

/** Lambda's system (platform) log levels, most detail first. */
export const SYSTEM_LOG_LEVELS = ['DEBUG', 'INFO', 'WARN'] as const;
export type SystemLogLevel = (typeof SYSTEM_LOG_LEVELS)[number];

/** As declared (TypeScript config, or read from a template's `LoggingConfig`). */
export interface LoggingConfig {
  /**
   * `Text`: the usual lines (`START RequestId: …`, `<time>\t<id>\tINFO\t<message>`). `JSON`: one
   * JSON object per line, for the function's console output and for the platform's records
   * (`platform.start`, `platform.report`, …), filtered by the two levels below.
   * @default 'Text'
   */
  logFormat?: LogFormat;
  /**
   * Console output below this level is dropped (JSON format only, as on Lambda).
   * @default 'INFO' with `logFormat: 'JSON'`
   */
  applicationLogLevel?: ApplicationLogLevel;
  /**
   * Platform records below this level are dropped (JSON format only, as on Lambda): `WARN` keeps
   * only failed invocations' records, `DEBUG` adds `platform.runtimeDone` and the init records.
   * @default 'INFO' with `logFormat: 'JSON'`
   */
  systemLogLevel?: SystemLogLevel;
  /**
   * The CloudWatch log group. Accepted so that templates carrying it load; ignored (logs stay with
   * the invocation result, there is no CloudWatch here).
   */
  logGroup?: string;
}

/** The configuration an instance is launched with (part of the deploy id). */
export interface ResolvedLoggingConfig {
  logFormat: LogFormat;
  /** Set with JSON only. */
  applicationLogLevel?: ApplicationLogLevel;
  /** Set with JSON only. */
  systemLogLevel?: SystemLogLevel;
}

/**
 * The emulator's own variable for the system log level (Lambda gives the runtime no such variable;
 * the platform filters its own records). The format is `AWS_LAMBDA_LOG_FORMAT`, shared with the runtime.
 */
export const SYSTEM_LOG_LEVEL_VARIABLE = 'LAMBDA_TESTKIT_SYSTEM_LOG_LEVEL';

function fail(name: string, problem: string, value: unknown): never {
  throw new ConfigError(ErrorCodes.LOGGING_CONFIG_INVALID, `Function "${name}": loggingConfig ${problem}`, {
    details: { function: name, value },
  });
}

function pick<T extends string>(
  name: string,
  key: string,
  raw: unknown,
  allowed: readonly T[],
): T | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'string' && (allowed as readonly string[]).includes(raw)) return raw as T;
  return fail(
    name,
    `"${key}" must be one of ${allowed.map((v) => `'${v}'`).join(', ')} (as Lambda spells them), got ${JSON.stringify(raw)}.`,
    raw,
  );
}

/**
 * Validates a declared `loggingConfig` as the Lambda API does and applies its defaults: the levels
 * default to INFO with JSON; with Text (the default format) a level is refused, because Lambda
 * filters by level only in the JSON format. `undefined` for no configuration (Lambda's defaults:
 * Text, nothing set in the sandbox).
 */
export function checkLoggingConfig(name: string, raw: unknown): ResolvedLoggingConfig | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return fail(
      name,
      `must be an object { logFormat, applicationLogLevel, systemLogLevel }, got ${JSON.stringify(raw)}.`,
      raw,
    );
  }
  const config = raw as Record<string, unknown>;
  for (const key of Object.keys(config)) {
    if (!['logFormat', 'applicationLogLevel', 'systemLogLevel', 'logGroup'].includes(key)) {
      fail(
        name,
        `has an unknown option "${key}". Use logFormat, applicationLogLevel, systemLogLevel (logGroup is accepted and ignored).`,
        config[key],
      );
    }
  }
  if (config.logGroup !== undefined && typeof config.logGroup !== 'string') {
    fail(
      name,
      `"logGroup" must be a string (it is ignored), got ${JSON.stringify(config.logGroup)}.`,
      config.logGroup,
    );
  }
  const logFormat = pick(name, 'logFormat', config.logFormat, LOG_FORMATS) ?? 'Text';
  const applicationLogLevel = pick(
    name,
    'applicationLogLevel',
    config.applicationLogLevel,
    APPLICATION_LOG_LEVELS,
  );
  const systemLogLevel = pick(name, 'systemLogLevel', config.systemLogLevel, SYSTEM_LOG_LEVELS);
  if (logFormat === 'Text') {
    const levels = [
      applicationLogLevel === undefined ? undefined : 'applicationLogLevel',
      systemLogLevel === undefined ? undefined : 'systemLogLevel',
    ].filter((k) => k !== undefined);
    if (levels.length > 0) {
      fail(
        name,
        `sets ${levels.join(' and ')} with the Text log format; Lambda filters by level only in the JSON ` +
          `format and refuses this. Set logFormat: 'JSON', or remove ${levels.join(' and ')}.`,
        raw,
      );
    }
    return { logFormat };
  }
  return {
    logFormat,
    applicationLogLevel: applicationLogLevel ?? 'INFO',
    systemLogLevel: systemLogLevel ?? 'INFO',
  };
}

/**
 * The sandbox variables of a logging configuration: the two Lambda gives the runtime
 * (`AWS_LAMBDA_LOG_FORMAT`, `AWS_LAMBDA_LOG_LEVEL`), and the system level for the emulator.
 */
export function loggingEnvironment(config: ResolvedLoggingConfig | undefined): Record<string, string> {
  if (!config) return {};
  return {
    AWS_LAMBDA_LOG_FORMAT: config.logFormat,
    ...(config.applicationLogLevel ? { AWS_LAMBDA_LOG_LEVEL: config.applicationLogLevel } : {}),
    ...(config.systemLogLevel ? { [SYSTEM_LOG_LEVEL_VARIABLE]: config.systemLogLevel } : {}),
  };
}
