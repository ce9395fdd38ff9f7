/**
 * The log stream of one instance, and the cutting of one invocation's lines out of it.
 *
 * Backends feed raw output (container log stream, emulator stdout/stderr) into `LineLog`.
 * Because an instance serves one invocation at a time, an invocation's lines are the lines from
 * the first platform record after the capture began (`INIT_START` of a cold start, else `START`)
 * up to the `REPORT` (docs/lambda-apis.md#platform-log-lines). With the JSON log format the same
 * records are `platform.initStart`, `platform.start` and `platform.report` objects; where the system
 * log level drops one, the emulator writes a boundary line instead, which is read here and never
 * kept. RIE does not return the request id to the caller, so the start record is also where it
 * comes from.
 */

export interface InvocationLogs {
  requestId?: string;
  lines: string[];
  /** The report named an init duration: the invocation was a cold start (also a restarted runtime). */
  initReported?: boolean;
}

export interface LogCapture {
  /** Waits (at most `timeoutMs`) for the REPORT line, then returns what was captured. */
  finish(timeoutMs?: number): Promise<InvocationLogs>;
}

export interface InstanceLogs {
  /** Starts capturing; call before sending the request. */
  capture(): LogCapture;
}

const START = /^START RequestId: (\S+)/;
const INIT_START = /^INIT_START /;
const REPORT = /^REPORT RequestId: (\S+)/;
const REPORT_WITH_INIT = /^REPORT RequestId: .*\bInit Duration: /;
/** emulator/report-lines.ts `BOUNDARY_PREFIX` (the emulator folder cannot be imported from here). */
export const BOUNDARY_PREFIX = '\u001flambda-testkit ';
const JSON_RECORD = /^\{"time":"[^"]*","type":"platform\.(initStart|start|report)"/;

type Platform =
  | { kind: 'initStart' }
  | { kind: 'start'; requestId: string | undefined }
  | { kind: 'report'; initReported: boolean };

/** The platform record a line is, in any of its forms; undefined for everything else. */
function platformRecord(line: string): Platform | undefined {
  if (line.startsWith(BOUNDARY_PREFIX)) {
    const [type, requestId, init] = line.slice(BOUNDARY_PREFIX.length).split(' ');
    if (type === 'platform.start') return { kind: 'start', requestId };
    if (type === 'platform.report') return { kind: 'report', initReported: init !== undefined };
    return undefined;
  }
  if (INIT_START.test(line)) return { kind: 'initStart' };
  const start = START.exec(line);
  if (start) return { kind: 'start', requestId: start[1] };
  if (REPORT.test(line)) return { kind: 'report', initReported: REPORT_WITH_INIT.test(line) };
  const json = JSON_RECORD.exec(line);
  if (!json) return undefined;
  let record: { requestId?: unknown; metrics?: { initDurationMs?: unknown } } = {};
  try {
    record = (JSON.parse(line) as { record?: typeof record }).record ?? {};
  } catch {
    return undefined;
  }
  if (json[1] === 'initStart') return { kind: 'initStart' };
  if (json[1] === 'start')
    return { kind: 'start', requestId: typeof record.requestId === 'string' ? record.requestId : undefined };
  return { kind: 'report', initReported: record.metrics?.initDurationMs !== undefined };
}

/** Bound on lines kept for one capture, so a chatty handler cannot exhaust memory. */
const MAX_CAPTURED_LINES = 10_000;

interface ActiveCapture {
  started: boolean;
  requestId?: string;
  initReported?: boolean;
  lines: string[];
  done: boolean;
  onDone?: () => void;
}

export class LineLog implements InstanceLogs {
  #partial = '';
  #captures = new Set<ActiveCapture>();
  #watchers = new Set<(line: string) => void>();

  /** Calls `listener` with every later line (a debugged runtime's inspector address is read so). Returns the unsubscribe. */
  watch(listener: (line: string) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  /** Feeds output; may hold partial lines until their newline arrives. */
  write(chunk: string | Buffer): void {
    const text = this.#partial + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    for (const raw of parts) this.#line(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
  }

  /** Flushes a trailing line without newline (stream ended). */
  end(): void {
    if (this.#partial) this.#line(this.#partial);
    this.#partial = '';
    for (const c of this.#captures) this.#complete(c);
  }

  capture(): LogCapture {
    const c: ActiveCapture = { started: false, lines: [], done: false };
    this.#captures.add(c);
    return {
      finish: (timeoutMs = 1000) =>
        new Promise<InvocationLogs>((resolve) => {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const settle = () => {
            clearTimeout(timer);
            this.#captures.delete(c);
            resolve({
              requestId: c.requestId,
              lines: c.lines,
              ...(c.initReported ? { initReported: true } : {}),
            });
          };
          if (c.done) {
            settle();
            return;
          }
          timer = setTimeout(settle, timeoutMs);
          c.onDone = settle;
        }),
    };
  }

  #line(line: string): void {
    const boundary = line.startsWith(BOUNDARY_PREFIX);
    if (!boundary) for (const watcher of this.#watchers) watcher(line);
    const record = platformRecord(line);
    for (const c of this.#captures) {
      if (c.done) continue;
      if (!c.started) {
        if (record?.kind !== 'start' && record?.kind !== 'initStart') continue;
        c.started = true;
      }
      if (record?.kind === 'start') c.requestId ??= record.requestId;
      if (!boundary && c.lines.length < MAX_CAPTURED_LINES) c.lines.push(line);
      if (record?.kind === 'report') {
        if (record.initReported) c.initReported = true;
        this.#complete(c);
      }
    }
  }

  #complete(c: ActiveCapture): void {
    c.done = true;
    c.onDone?.();
  }
}
