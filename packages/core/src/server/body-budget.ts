/**
 * A cap on the request-body bytes the pool server holds at once, over all calls under way.
 *
 * Each call's event stays in memory until its invocation ends (up to 6 MB each), so without a cap
 * enough concurrent callers could hold any amount of memory. A call whose body does not fit waits,
 * in arrival order, until earlier calls release theirs; it is never refused for it.
 */
export class BodyBudget {
  readonly #capacity: number;
  #inUse = 0;
  readonly #waiting: { bytes: number; grant: () => void }[] = [];

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Bytes currently held. */
  get inUse(): number {
    return this.#inUse;
  }

  /**
   * Reserves `bytes` (a call larger than the whole budget reserves all of it) and resolves with the
   * function that gives them back; calling it twice gives back once.
   */
  async reserve(bytes: number): Promise<() => void> {
    const wanted = Math.min(Math.max(0, bytes), this.#capacity);
    if (this.#waiting.length === 0 && this.#inUse + wanted <= this.#capacity) {
      this.#inUse += wanted;
    } else {
      await new Promise<void>((grant) => this.#waiting.push({ bytes: wanted, grant }));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse -= wanted;
      this.#grantWaiting();
    };
  }

  #grantWaiting(): void {
    for (let next = this.#waiting[0]; next; next = this.#waiting[0]) {
      if (this.#inUse + next.bytes > this.#capacity) return;
      this.#waiting.shift();
      this.#inUse += next.bytes;
      next.grant();
    }
  }
}
