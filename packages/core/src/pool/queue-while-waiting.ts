import type PQueue from 'p-queue';

/**
 * Queues `task` and lets `signals` cancel it only while it waits: p-queue frees the slot of a
 * *running* task whose signal aborts while the task goes on, which would let a second call onto a
 * function's capacity (or leak a launch), so the signals are detached the moment the task starts.
 */
export function addWhileWaiting<T>(
  queue: PQueue,
  task: () => Promise<T>,
  signals: AbortSignal[],
): Promise<T> {
  // The common case, a free place: p-queue starts the task within `add`, so there is no wait to
  // cancel and no abort plumbing is set up (an AbortController and listeners per call, in p-queue too).
  if (queue.size === 0 && queue.pending < queue.concurrency && !queue.isPaused) {
    const aborted = signals.find((signal) => signal.aborted);
    return aborted ? Promise.reject(aborted.reason) : queue.add(task);
  }
  const waiting = new AbortController();
  const detach: (() => void)[] = [];
  for (const signal of signals) {
    if (signal.aborted) {
      waiting.abort(signal.reason);
      break;
    }
    const onAbort = () => waiting.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    detach.push(() => signal.removeEventListener('abort', onAbort));
  }
  const cleanup = () => {
    for (const d of detach.splice(0)) d();
  };
  return queue
    .add(
      () => {
        cleanup();
        return task();
      },
      { signal: waiting.signal },
    )
    .finally(cleanup);
}
