/**
 * A timeout that can be held and let go again, counting only the time it ran: the function timeout
 * (and the init limit) of a sandbox whose runtime has a debugger attached (docs/debugging.md#timeouts-while-debugging).
 */
export class PausableTimer {
  readonly #fire: () => void;
  #remainingMs: number;
  /** `performance.now()` when it last started running; undefined while held. */
  #runningSince: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #done = false;

  constructor(ms: number, fire: () => void, held = false) {
    this.#remainingMs = ms;
    this.#fire = fire;
    if (!held) this.resume();
  }

  /** Stops counting; `resume` goes on with what was left. */
  hold(): void {
    if (this.#done || this.#runningSince === undefined) return;
    clearTimeout(this.#timer);
    this.#remainingMs = Math.max(0, this.#remainingMs - (performance.now() - this.#runningSince));
    this.#runningSince = undefined;
  }

  resume(): void {
    if (this.#done || this.#runningSince !== undefined) return;
    this.#runningSince = performance.now();
    this.#timer = setTimeout(() => {
      this.#done = true;
      this.#fire();
    }, this.#remainingMs);
  }

  /** Never fires after this. */
  clear(): void {
    this.#done = true;
    clearTimeout(this.#timer);
  }
}
