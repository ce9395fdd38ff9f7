/**
 * The Node runtime's log format: each console line is `<ISO time>\t<request id>\t<LEVEL>\t<message>`
 * (or one JSON object per line when AWS_LAMBDA_LOG_FORMAT=JSON), written to stdout, where the
 * emulator (or the container) collects it.
 */
import { format } from 'node:util';

type Method = 'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace';

const LEVELS: Record<Method, string> = {
  log: 'INFO',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  debug: 'DEBUG',
  trace: 'TRACE',
};

export function patchConsole(requestId: () => string | undefined, env: NodeJS.ProcessEnv): void {
  const json = env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';
  for (const method of Object.keys(LEVELS) as Method[]) {
    const level = LEVELS[method];
    console[method] = (...args: unknown[]) => {
      const timestamp = new Date().toISOString();
      const id = requestId() ?? 'undefined';
      const message =
        method === 'trace' ? format('Trace: %s\n%s', format(...args), stackHere()) : format(...args);
      const line = json
        ? JSON.stringify({ timestamp, level, requestId: id, message })
        : `${timestamp}\t${id}\t${level}\t${message}`;
      process.stdout.write(`${line}\n`);
    };
  }
}

function stackHere(): string {
  return (new Error().stack ?? '').split('\n').slice(3).join('\n');
}
