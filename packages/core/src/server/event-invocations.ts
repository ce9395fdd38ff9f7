/**
 * Event (asynchronous) invocations as Lambda runs them (docs/lambda-apis.md#event-invocations):
 * accepted at once, run in the background, and retried after a function error up to
 * `maximumRetryAttempts` times (Lambda: 2 by default, after about 1 and 2 minutes; shortened here)
 * with the same request id. Every call is recorded so that tests can await and inspect it.
 */
import type { InvocationOutcome } from '../invocation.ts';

/** One try of an Event call. */
export interface EventAttempt {
  /** How the pool classified the answer (`success`, `handled`, `timeout`, …), or `error` when the call itself failed. */
  kind: string;
  /** The function's result (parsed JSON) on success. */
  result?: unknown;
  /** The function error or the testkit error of a failed try. */
  error?: { errorType: string; errorMessage: string };
}

export interface EventRecord {
  requestId: string;
  functionName: string;
  /** `pending` while a try runs or a retry waits. */
  status: 'pending' | 'succeeded' | 'failed';
  attempts: EventAttempt[];
}

export interface EventRetryPolicy {
  /** Retries after the first try (Lambda: 0 to 2). */
  maximumRetryAttempts: number;
  /** Wait before each retry; the last one repeats. */
  delaysMs: readonly number[];
}

/** One try: resolves with the outcome, or rejects with the testkit error. */
export type EventTry = () => Promise<InvocationOutcome>;

export class EventInvocations {
  readonly #records = new Map<string, EventRecord[]>();
  readonly #running = new Map<string, Set<Promise<void>>>();
  readonly #closed = new AbortController();

  /** Starts an accepted Event call in the background; `done` settles once it succeeded or gave up. */
  submit(
    functionName: string,
    requestId: string,
    attempt: EventTry,
    policy: EventRetryPolicy,
  ): Promise<void> {
    const record: EventRecord = { requestId, functionName, status: 'pending', attempts: [] };
    const list = this.#records.get(functionName) ?? [];
    list.push(record);
    this.#records.set(functionName, list);
    const running = this.#running.get(functionName) ?? new Set();
    this.#running.set(functionName, running);
    const done = this.#run(record, attempt, policy).finally(() => running.delete(done));
    running.add(done);
    return done;
  }

  /** The Event calls of a function so far, oldest first (copies). */
  list(functionName: string): EventRecord[] {
    return structuredClone(this.#records.get(functionName) ?? []);
  }

  /** Per function: Event calls accepted, and those that failed after their retries. */
  counts(): Record<string, { events: number; failed: number }> {
    const out: Record<string, { events: number; failed: number }> = {};
    for (const [name, records] of this.#records) {
      out[name] = { events: records.length, failed: records.filter((r) => r.status === 'failed').length };
    }
    return out;
  }

  /** Waits until no Event call of the function is pending, or `timeoutMs` passed; then lists them. */
  async settled(functionName: string, timeoutMs: number): Promise<EventRecord[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = [...(this.#running.get(functionName) ?? [])];
      const left = deadline - Date.now();
      if (running.length === 0 || left <= 0) break;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled(running),
        new Promise((resolve) => {
          timer = setTimeout(resolve, left);
        }),
      ]);
      clearTimeout(timer);
    }
    return this.list(functionName);
  }

  /** Skips the retries still waiting (teardown): their calls end as `failed` with the tries made. */
  close(): void {
    this.#closed.abort();
  }

  async #run(record: EventRecord, attempt: EventTry, policy: EventRetryPolicy): Promise<void> {
    for (let n = 0; ; n++) {
      const tried = await attempt().then(toAttempt, (error: unknown) => ({
        kind: 'error',
        error: {
          errorType: error instanceof Error ? error.name : 'Error',
          errorMessage: error instanceof Error ? error.message : String(error),
        },
      }));
      record.attempts.push(tried);
      if (tried.kind === 'success') {
        record.status = 'succeeded';
        return;
      }
      if (n >= policy.maximumRetryAttempts || this.#closed.signal.aborted) break;
      const delay = policy.delaysMs[Math.min(n, policy.delaysMs.length - 1)] ?? 0;
      if (!(await this.#sleep(delay))) break;
    }
    record.status = 'failed';
  }

  /** Resolves true after `ms`, false at once when closed. */
  #sleep(ms: number): Promise<boolean> {
    const signal = this.#closed.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function toAttempt(outcome: InvocationOutcome): EventAttempt {
  if (outcome.kind === 'success') return { kind: 'success', result: outcome.json };
  return {
    kind: outcome.kind,
    error: {
      errorType: outcome.error?.errorType ?? outcome.kind,
      errorMessage: outcome.error?.errorMessage ?? '',
    },
  };
}
