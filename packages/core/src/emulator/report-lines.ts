/**
 * The platform lines RIE prints to its stdout around each invoke
 * (docs/lambda-protocol.md#rie-lifecycle-and-log-lines). The pool cuts an invocation's logs from `START` to
 * `REPORT`, so the format is a contract.
 */

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}\n`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}\n`;
}

export interface ReportFigures {
  requestId: string;
  durationMs: number;
  /** Present on a cold start: from spawning the runtime to its first `/next` (or its failure). */
  initDurationMs?: number;
  memorySizeMb: number;
  /** The runtime's peak resident size (memory-watch.ts); the configured size where it cannot be read. */
  maxMemoryUsedMb: number;
  /** Set when the runtime ended in an error Lambda names on the REPORT line (`Runtime.OutOfMemory`). */
  errorType?: string;
}

export function reportLine(f: ReportFigures): string {
  const init = f.initDurationMs === undefined ? '' : `Init Duration: ${f.initDurationMs.toFixed(2)} ms\t`;
  // RIE prints the configured size as "Max Memory Used"; we print the measured peak.
  return (
    `REPORT RequestId: ${f.requestId}\t${init}Duration: ${f.durationMs.toFixed(2)} ms\t` +
    `Billed Duration: ${Math.ceil(f.durationMs)} ms\tMemory Size: ${f.memorySizeMb} MB\t` +
    `Max Memory Used: ${f.maxMemoryUsedMb} MB\t` +
    (f.errorType ? `Status: error\tError Type: ${f.errorType}\t` : '') +
    '\n'
  );
}
