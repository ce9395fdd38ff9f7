/**
 * A small Chrome DevTools Protocol client over Node's global WebSocket (stable since Node 22.4):
 * what the debugger suites use to attach to a function's inspector as VS Code or DevTools would.
 */

interface Pending {
  resolve: (result: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

export interface InspectorEvent {
  method: string;
  params: Record<string, unknown>;
}

export class InspectorSession {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, Pending>();
  /** Every event received, so a wait started after an event arrived still sees it. */
  readonly #events: InspectorEvent[] = [];
  readonly #waiters = new Set<() => void>();
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener('message', (message) => {
      const data = JSON.parse(String(message.data)) as {
        id?: number;
        method?: string;
        params?: Record<string, unknown>;
        result?: Record<string, unknown>;
        error?: { message: string };
      };
      if (data.id !== undefined) {
        const pending = this.#pending.get(data.id);
        this.#pending.delete(data.id);
        if (data.error) pending?.reject(new Error(data.error.message));
        else pending?.resolve(data.result ?? {});
        return;
      }
      if (data.method) {
        this.#events.push({ method: data.method, params: data.params ?? {} });
        for (const wake of this.#waiters) wake();
      }
    });
    socket.addEventListener('close', () => {
      for (const pending of this.#pending.values()) pending.reject(new Error('inspector socket closed'));
      this.#pending.clear();
    });
  }

  static connect(url: string, timeoutMs = 10_000): Promise<InspectorSession> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const timer = setTimeout(() => {
        socket.close();
        reject(new Error(`no WebSocket connection to ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.addEventListener('open', () => {
        clearTimeout(timer);
        resolve(new InspectorSession(socket));
      });
      socket.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new Error(`WebSocket connection to ${url} failed`));
      });
    });
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** The first event named `method` that passes `accept`, received before or within `timeoutMs`. */
  waitFor(
    method: string,
    accept: (params: Record<string, unknown>) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<Record<string, unknown>> {
    const find = () => this.#events.find((e) => e.method === method && accept(e.params))?.params;
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const wake = () => {
        const hit = find();
        if (!hit) return;
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`no ${method} event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }

  close(): void {
    this.#socket.close();
  }
}

/** Collects lambda-testkit's lines (a backend's `log`) and hands out the debugger addresses in them. */
export class DebuggerLines {
  readonly lines: string[] = [];
  readonly #waiters = new Set<() => void>();
  #taken = 0;

  readonly log = (line: string): void => {
    this.lines.push(line);
    for (const wake of this.#waiters) wake();
  };

  /** The ws:// URL of the next debugger line not handed out yet, waiting at most `timeoutMs`. */
  next(timeoutMs = 30_000): Promise<{ url: string; line: string }> {
    const take = () => {
      const all = this.lines.filter((l) => l.startsWith('debugger for '));
      const line = all[this.#taken];
      if (line === undefined) return undefined;
      this.#taken += 1;
      const url = /on (ws:\/\/\S+?),? /.exec(line)?.[1];
      if (!url) throw new Error(`no ws:// URL in the debugger line: ${line}`);
      return { url, line };
    };
    const now = take();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const wake = () => {
        const hit = take();
        if (!hit) return;
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`no debugger line within ${timeoutMs} ms; lines so far:\n${this.lines.join('\n')}`));
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }
}
