/**
 * Runtimes of the process backend are children of the pool's own process, each in its own process
 * group (so a timeout kills the handler's children too). If the pool's process dies without
 * terminating them (SIGKILL, a crash), nothing in it can act any more, and an idle runtime is
 * frozen (SIGSTOP) and cannot notice either. The orphan guard is one small Node process per
 * backend that learns every runtime's group and kills those still held once its IPC channel to the
 * pool closes (orphan-guard-child.ts). What it misses (a daemon the handler detached into a group
 * of its own) is what the sweep of dead runs finds by task root (sandbox-processes.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

export class OrphanGuard {
  #child: ChildProcess | undefined;

  /** Starts the guard process (once, lazily). Detached: a Ctrl-C to the pool's group spares it. */
  #guard(): ChildProcess | undefined {
    if (this.#child?.connected) return this.#child;
    const ext = extname(fileURLToPath(import.meta.url));
    const script = fileURLToPath(new URL(`./orphan-guard-child${ext}`, import.meta.url));
    const child = spawn(process.execPath, [script], {
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
    this.#send({ add: pgid });
  }

  remove(pgid: number): void {
    if (this.#child?.connected) this.#send({ remove: pgid });
  }

  /** Lets the guard go: it kills what it still holds (nothing, after an orderly close) and exits. */
  close(): void {
    if (this.#child?.connected) this.#child.disconnect();
    this.#child = undefined;
  }

  #send(message: { add?: number; remove?: number }): void {
    const child = this.#guard();
    if (!child?.connected) return;
    try {
      child.send(message);
    } catch {
      // The guard died: the sweep of dead runs is the remaining safety net.
    }
  }
}
