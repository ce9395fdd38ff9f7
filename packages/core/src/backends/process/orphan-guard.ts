/**
 * Runtimes of the process backend are children of the pool's own process, each in its own process
 * group (so a timeout kills the handler's children too). If the pool's process dies without
 * terminating them (SIGKILL, a crash), nothing in it can act any more, and an idle runtime is
 * frozen (SIGSTOP) and cannot notice either. The orphan guard is one small Node process per
 * backend that learns every runtime's group over IPC (`{ add: pgid }`, `{ remove: pgid }`) and
 * SIGKILLs the groups it still holds once the channel closes, that is once the pool's process is
 * gone however it ended (SIGKILL ends a frozen process too). What it misses (a daemon the handler
 * detached into a group of its own) is what the sweep of dead runs finds by task root
 * (sandbox-processes.ts).
 *
 * Its program is the few lines below, run with `node -e`: plain JavaScript that needs no file
 * and no TypeScript stripping (which alone would double its memory).
 */
import { type ChildProcess, spawn } from 'node:child_process';

const GUARD_PROGRAM = `
const groups = new Set();
process.on('message', (m) => {
  if (typeof m.add === 'number') groups.add(m.add);
  if (typeof m.remove === 'number') groups.delete(m.remove);
});
process.on('disconnect', () => {
  for (const pgid of groups) {
    try { process.kill(-pgid, 'SIGKILL'); } catch {}
  }
  process.exit(0);
});
process.on('SIGTERM', () => process.disconnect());
`;

export class OrphanGuard {
  #child: ChildProcess | undefined;

  /** Starts the guard process (once, lazily). Detached: a Ctrl-C to the pool's group spares it. */
  #guard(): ChildProcess {
    if (this.#child?.connected) return this.#child;
    const child = spawn(process.execPath, ['-e', GUARD_PROGRAM], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      env: {},
    });
    child.on('error', () => {});
    // Neither the process nor its channel may keep the pool's event loop alive.
    child.unref();
    child.channel?.unref();
    this.#child = child;
    return child;
  }

  add(pgid: number): void {
    this.#send(this.#guard(), { add: pgid });
  }

  remove(pgid: number): void {
    if (this.#child?.connected) this.#send(this.#child, { remove: pgid });
  }

  /** Lets the guard go: it kills what it still holds (nothing, after an orderly close) and exits. */
  close(): void {
    if (this.#child?.connected) this.#child.disconnect();
    this.#child = undefined;
  }

  #send(child: ChildProcess, message: { add?: number; remove?: number }): void {
    if (!child.connected) return;
    try {
      child.send(message);
    } catch {
      // The guard died: the sweep of dead runs is the remaining safety net.
    }
  }
}
