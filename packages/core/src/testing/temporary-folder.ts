import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A scratch folder under the system temp folder for a test file: `renew()` in a before hook (it
 * removes the previous one), `remove()` in the after hook, `path` in between.
 */
export class TemporaryFolder {
  readonly #prefix: string;
  #path: string | undefined;

  /** @param prefix start of the folder's name, e.g. `ltk-owner-` */
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** The current folder; throws before the first `renew()`. */
  get path(): string {
    if (this.#path === undefined) throw new Error('TemporaryFolder: call renew() (in a before hook) first');
    return this.#path;
  }

  /** Removes the current folder, if any, and makes a fresh one. */
  async renew(): Promise<string> {
    await this.remove();
    this.#path = await mkdtemp(join(tmpdir(), this.#prefix));
    return this.#path;
  }

  async remove(): Promise<void> {
    const path = this.#path;
    this.#path = undefined;
    if (path) await rm(path, { recursive: true, force: true });
  }
}
