/**
 * The log stream of one instance, and the cutting of one invocation's lines out of it.
 *
 * Backends feed raw output (container log stream, emulator stdout/stderr) into `LineLog`.
 * Because an instance serves one invocation at a time, an invocation's lines are the lines from
 * the first `START RequestId:` after the capture began up to the matching `REPORT RequestId:`.
 * RIE does not return the request id to the caller, so the START line is also where it comes from.
 */

export interface InvocationLogs {
  requestId?: string;
  lines: string[];
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
const REPORT = /^REPORT RequestId: (\S+)/;

/** Bound on lines kept for one capture, so a chatty handler cannot exhaust memory. */
const MAX_CAPTURED_LINES = 10_000;

interface ActiveCapture {
  started: boolean;
  requestId?: string;
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
            resolve({ requestId: c.requestId, lines: c.lines });
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
    for (const watcher of this.#watchers) watcher(line);
    for (const c of this.#captures) {
      if (c.done) continue;
      if (!c.started) {
        const m = START.exec(line);
        if (!m) continue;
        c.started = true;
        c.requestId = m[1];
      }
      if (c.lines.length < MAX_CAPTURED_LINES) c.lines.push(line);
      if (REPORT.test(line)) this.#complete(c);
    }
  }

  #complete(c: ActiveCapture): void {
    c.done = true;
    c.onDone?.();
  }
}
