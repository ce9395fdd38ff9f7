/**
 * Stopping an instance once: a backend keeps a state per live instance, and every caller of
 * `terminate` (the pool, `stopAll`, a test) gets the same stop, which drops the state when done
 * whether or not it succeeded.
 */

/** What stopOnce needs of an instance's state: the stop already under way, if any. */
export interface StoppableState {
  stopping?: Promise<void>;
}

/**
 * Runs `stop` for `handle` at most once and forgets its state afterwards. An unknown handle (never
 * launched here, or already stopped) resolves at once.
 */
export function stopOnce<Handle, State extends StoppableState>(
  instances: Map<Handle, State>,
  handle: Handle,
  stop: (state: State) => Promise<void>,
): Promise<void> {
  const state = instances.get(handle);
  if (!state) return Promise.resolve();
  state.stopping ??= (async () => {
    try {
      await stop(state);
    } finally {
      instances.delete(handle);
    }
  })();
  return state.stopping;
}
