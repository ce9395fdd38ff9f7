/**
 * lambda-testkit's own output lines (warnings, progress). One default for every place that takes a
 * `log` option: stderr, so the test runner's reporter keeps stdout, with a prefix that says who speaks.
 */

/** Receives one line of lambda-testkit's own output (no trailing newline). */
export type LogLine = (line: string) => void;

/** The default `log`: `[lambda-testkit] <line>` on stderr. */
export const stderrLog: LogLine = (line) => {
  process.stderr.write(`[lambda-testkit] ${line}\n`);
};
