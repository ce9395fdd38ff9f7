/**
 * Runs a test runner as a child process and keeps everything it printed: the suites that run
 * Vitest or Jest on a project assert on their reports, and show this output when a report is missing.
 */
import { type SpawnOptions, spawn } from 'node:child_process';

export interface CollectedRun {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** stdout and stderr, interleaved as they arrived. */
  output: string;
}

export async function runCollecting(
  command: string,
  args: readonly string[],
  options: Omit<SpawnOptions, 'stdio'>,
): Promise<CollectedRun> {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const code = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('close', (exitCode, signal) => {
      // A `timeout` option ends the child with a signal: say so, or the output just stops.
      if (signal)
        output += `\n[ended by ${signal}${options.timeout ? ` (timeout ${options.timeout} ms)` : ''}]`;
      done(exitCode);
    });
  });
  return { code, output };
}
