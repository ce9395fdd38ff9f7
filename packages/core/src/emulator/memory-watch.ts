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
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { oomKillCount } from './oom-kills.ts';

/** How often a working runtime's resident size is read; `VmHWM` is a peak, so a spike between reads is seen. */
const SAMPLE_MS = 20;

const PEAK_FIELD = Buffer.from('\nVmHWM:');
const CURRENT_FIELD = Buffer.from('\nVmRSS:');

/** The number after `field` (spaces skipped) in the first `length` bytes, or -1 when it is not there. */
function fieldKib(bytes: Buffer, length: number, field: Buffer): number {
  const at = bytes.indexOf(field);
  if (at < 0 || at + field.length >= length) return -1;
  let i = at + field.length;
  while (i < length && (bytes[i] === 0x20 || bytes[i] === 0x09)) i++;
  let value = 0;
  const start = i;
  for (; i < length && bytes[i]! >= 0x30 && bytes[i]! <= 0x39; i++) value = value * 10 + bytes[i]! - 0x30;
  return i > start && i < length ? value : -1;
}

/** Peak (`VmHWM`) and current (`VmRSS`) resident size in KiB from the first `length` bytes of a status. */
function parseStatus(bytes: Buffer, length: number): { peak: number; current: number } | undefined {
  const peak = fieldKib(bytes, length, PEAK_FIELD);
  const current = fieldKib(bytes, length, CURRENT_FIELD);
  return peak < 0 || current < 0 ? undefined : { peak, current };
}

/**
 * `/proc/<pid>/status` of one process, opened once and read again from its start on every sample
 * (`pread` at offset 0 makes the kernel render it afresh): one system call per sample instead of
 * an open, two or three reads and a close. The descriptor names that process, not its pid, so a
 * pid reused after it ended is never read by mistake.
 */
class StatusFile {
  readonly #path: string;
  #fd: number | undefined;
  #buffer = Buffer.alloc(4096);
  /** Closed, or it could not be opened: no more reads. */
  #done = false;

  constructor(pid: number) {
    this.#path = `/proc/${pid}/status`;
  }

  read(): { peak: number; current: number } | undefined {
    if (this.#done) return undefined;
    try {
      this.#fd ??= openSync(this.#path, 'r');
      for (;;) {
        const length = readSync(this.#fd, this.#buffer, 0, this.#buffer.length, 0);
        // A status longer than the buffer (a very long Groups line) is read again into a bigger one.
        if (length < this.#buffer.length) return parseStatus(this.#buffer, length);
        this.#buffer = Buffer.alloc(this.#buffer.length * 2);
      }
    } catch {
      // No /proc (macOS), or the process is gone (ESRCH): nothing more to read.
      this.close();
      return undefined;
    }
  }

  close(): void {
    this.#done = true;
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
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
  readonly #status: StatusFile;
  readonly #limitKib: number;
  readonly #onExceeded: () => void;
  readonly #oomKillsAtStart: number | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #peakKib = 0;
  #exceeded = false;
  /** `performance.now()` of the last sample. */
  #sampledAt = Number.NEGATIVE_INFINITY;

  constructor(pid: number, limitMb: number, onExceeded: () => void) {
    this.#status = new StatusFile(pid);
    this.#limitKib = limitMb * 1024;
    this.#onExceeded = onExceeded;
    this.#oomKillsAtStart = oomKillCount();
  }

  /**
   * Samples every SAMPLE_MS until `stop()`. The first sample is taken at once unless the last one
   * is less than SAMPLE_MS old (back-to-back invocations: the end of one was just sampled), so a
   * working runtime still goes no longer than about SAMPLE_MS unsampled.
   */
  start(): void {
    if (this.#timer) return;
    if (performance.now() - this.#sampledAt >= SAMPLE_MS) this.sample();
    if (this.#exceeded) return;
    this.#timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  sample(): void {
    this.#sampledAt = performance.now();
    const rss = this.#status.read();
    if (!rss) return;
    this.#peakKib = Math.max(this.#peakKib, rss.peak);
    if (!this.#exceeded && rss.current > this.#limitKib) {
      this.#exceeded = true;
      this.stop();
      this.#onExceeded();
    }
  }

  /** The process is gone: stops sampling and lets go of its status file (the figures stay). */
  close(): void {
    this.stop();
    this.#status.close();
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
