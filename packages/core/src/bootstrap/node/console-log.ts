/**
 * The Node runtime's console (docs/lambda-apis.md#logging-configuration): each console line is
 * `<ISO time>\t<request id>\t<LEVEL>\t<message>`, or with `AWS_LAMBDA_LOG_FORMAT=JSON` one JSON
 * object per line (`timestamp`, `level`, `requestId`, `message`, and `errorType`/`errorMessage`/
 * `stackTrace` for a logged error), written to stdout, where the emulator (or the container)
 * collects it. Levels below `AWS_LAMBDA_LOG_LEVEL` are dropped; Lambda sets that variable only with
 * the JSON format.
 */
import { format } from 'node:util';

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

type Method = 'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace' | 'fatal';

const LEVELS: Record<Method, LogLevel> = {
  log: 'INFO',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  debug: 'DEBUG',
  trace: 'TRACE',
  fatal: 'FATAL',
};

export interface ConsoleSettings {
  json: boolean;
  /** Lines below it are dropped. */
  minLevel: LogLevel;
}

/** What the runtime reads, as AWS's Node runtime does: an unknown level lets everything through. */
export function consoleSettings(env: NodeJS.ProcessEnv): ConsoleSettings {
  const level = env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase();
  return {
    json: env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON',
    minLevel: (LOG_LEVELS as readonly string[]).includes(level ?? '') ? (level as LogLevel) : 'TRACE',
  };
}

/** Error fields as the Node runtime writes them in JSON logs. */
function errorFields(error: Error): { errorType: string; errorMessage: string; stackTrace: string[] } {
  return {
    errorType: error.constructor?.name ?? 'UnknownError',
    errorMessage: error.message,
    stackTrace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { ...errorFields(value), ...value } : value;
}

/**
 * One JSON log line. A single argument keeps its structure (`console.log({ a: 1 })` logs
 * `"message":{"a":1}`); several are formatted as `util.format` does, and the first Error among
 * them adds its type, message and stack.
 */
export function jsonLine(
  timestamp: string,
  level: LogLevel,
  requestId: string | undefined,
  args: unknown[],
): string {
  const entry: Record<string, unknown> = { timestamp, level, requestId };
  if (args.length === 1) {
    entry.message = args[0];
    try {
      return JSON.stringify(entry, errorReplacer);
    } catch {
      // Circular structures and BigInts: the message as util.format prints it.
      entry.message = format(args[0]);
      return JSON.stringify(entry);
    }
  }
  entry.message = format(...args);
  const error = args.find((a): a is Error => a instanceof Error);
  if (error) Object.assign(entry, errorFields(error));
  return JSON.stringify(entry);
}

export function textLine(
  timestamp: string,
  level: LogLevel,
  requestId: string | undefined,
  message: string,
): string {
  return `${timestamp}\t${requestId ?? 'undefined'}\t${level}\t${message}`;
}

export function patchConsole(requestId: () => string | undefined, env: NodeJS.ProcessEnv): void {
  const settings = consoleSettings(env);
  const min = LOG_LEVELS.indexOf(settings.minLevel);
  const target = console as unknown as Record<Method, (...args: unknown[]) => void>;
  for (const method of Object.keys(LEVELS) as Method[]) {
    const level = LEVELS[method];
    if (LOG_LEVELS.indexOf(level) < min) {
      target[method] = () => {};
      continue;
    }
    target[method] = (...args: unknown[]) => {
      const timestamp = new Date().toISOString();
      const id = requestId();
      const line = settings.json
        ? jsonLine(timestamp, level, id, args)
        : textLine(
            timestamp,
            level,
            id,
            method === 'trace' ? format('Trace: %s\n%s', format(...args), stackHere()) : format(...args),
          );
      process.stdout.write(`${line}\n`);
    };
  }
}

function stackHere(): string {
  return (new Error().stack ?? '').split('\n').slice(3).join('\n');
}
