/**
 * The orphan guard's process (see orphan-guard.ts): it holds the process groups of the runtimes a
 * pool started, as its parent reports them over IPC (`{ add: pgid }`, `{ remove: pgid }`), and
 * SIGKILLs every group still held once the channel closes, that is once the pool's process is gone
 * however it ended. A frozen (SIGSTOPped) runtime cannot notice that itself; SIGKILL ends it anyway.
 * Imports only `node:` builtins.
 */
const groups = new Set<number>();

process.on('message', (message: { add?: number; remove?: number }) => {
  if (typeof message.add === 'number') groups.add(message.add);
  if (typeof message.remove === 'number') groups.delete(message.remove);
});
process.on('disconnect', () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  process.exit(0);
});
// Signals meant for the pool's terminal group do not reach this detached process; these would.
process.on('SIGTERM', () => process.disconnect?.());
