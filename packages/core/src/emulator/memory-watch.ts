/**
 * The memory limit of a sandbox, as far as a process can enforce it (docs/emulator.md#memory):
 * - the runtime's resident size is sampled from `/proc/<pid>/status` while it works (init and
 *   invocations; a frozen runtime cannot grow), and the runtime is killed once it exceeds
 *   `memorySizeMb`, as Lambda kills a function that exceeds its memory;
 * - a kill by the kernel's OOM killer inside a memory cgroup (the Docker backend's container limit)
 *   is recognised from the cgroup's `oom_kill` counter;
 * - `Max Memory Used` is the runtime's peak resident size (`VmHWM`), not the configured size.
 * Without `/proc` (macOS) nothing is sampled: no watchdog, and REPORT falls back to the configured size.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { oomKillCount } from './oom-kills.ts';

/** How often a working runtime's resident size is read; `VmHWM` is a peak, so a spike between reads is seen. */
const SAMPLE_MS = 20;

/** Peak and current resident size of `pid` in KiB, or undefined without `/proc` (or once it is gone). */
export function residentKib(pid: number): { peak: number; current: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const peak = /^VmHWM:\s+(\d+) kB/m.exec(status);
  const current = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!peak || !current) return undefined;
  return { peak: Number(peak[1]), current: Number(current[1]) };
}

/**
 * Makes `pid` the OOM killer's first choice, so a container at its limit loses the runtime (which
 * the emulator then reports) rather than the emulator. Raising one's own score needs no privilege.
 */
export function preferForOomKill(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/oom_score_adj`, '1000');
  } catch {
    // No /proc, or the process is already gone.
  }
}

export class MemoryWatch {
  readonly #pid: number;
  readonly #limitKib: number;
  readonly #onExceeded: () => void;
  readonly #oomKillsAtStart: number | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #peakKib = 0;
  #exceeded = false;

  constructor(pid: number, limitMb: number, onExceeded: () => void) {
    this.#pid = pid;
    this.#limitKib = limitMb * 1024;
    this.#onExceeded = onExceeded;
    this.#oomKillsAtStart = oomKillCount();
  }

  /** Samples until `stop()`; the first sample is taken at once. */
  start(): void {
    if (this.#timer) return;
    this.sample();
    this.#timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  sample(): void {
    const rss = residentKib(this.#pid);
    if (!rss) return;
    this.#peakKib = Math.max(this.#peakKib, rss.peak);
    if (!this.#exceeded && rss.current > this.#limitKib) {
      this.#exceeded = true;
      this.stop();
      this.#onExceeded();
    }
  }

  /** Peak resident size in MB (rounded up), or undefined when it could not be measured. */
  get peakMb(): number | undefined {
    return this.#peakKib > 0 ? Math.ceil(this.#peakKib / 1024) : undefined;
  }

  /** The runtime went over the limit: killed by this watch, or by the kernel in the memory cgroup. */
  get outOfMemory(): boolean {
    if (this.#exceeded) return true;
    const now = oomKillCount();
    return now !== undefined && this.#oomKillsAtStart !== undefined && now > this.#oomKillsAtStart;
  }

  /** A V8 heap-limit abort also counts when the last samples were close to the limit. */
  nearLimit(): boolean {
    return this.#peakKib >= this.#limitKib * 0.5;
  }
}
