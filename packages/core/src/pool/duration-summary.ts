/** A bounded sample of durations and its percentile summary, for `WarmPool.stats()`. */

export interface DurationSummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Keeps the most recent samples only, so a long run's stats cost bounded memory. */
const MAX_SAMPLES = 10_000;

export class DurationSamples {
  #samples: number[] = [];
  #next = 0;
  #count = 0;
  #max = 0;

  add(ms: number): void {
    this.#count++;
    this.#max = Math.max(this.#max, ms);
    if (this.#samples.length < MAX_SAMPLES) {
      this.#samples.push(ms);
    } else {
      this.#samples[this.#next] = ms;
      this.#next = (this.#next + 1) % MAX_SAMPLES;
    }
  }

  /** Nearest-rank percentiles over the kept samples; `count` and `max` cover every sample. */
  summary(): DurationSummary {
    const sorted = [...this.#samples].sort((a, b) => a - b);
    const rank = (p: number) => {
      if (sorted.length === 0) return 0;
      const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
      return round(sorted[i] ?? 0);
    };
    return { count: this.#count, p50: rank(50), p95: rank(95), p99: rank(99), max: round(this.#max) };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
