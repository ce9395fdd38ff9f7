// What every bench shares: nearest-rank percentiles and one way to print a target, so `bench/run.mjs`
// can gather every verdict of a `pnpm bench` run into one closing table.
//
// A target line looks like
//   TARGET MET    process cold start p50 / node+import: 1.32× (goal ≤ 1.50×)
// and is the only contract between a bench and run.mjs: the line starts with "TARGET ", then MET or
// MISSED, then free text.

/** Nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** p50, p99, max and count of `samples` (ms). */
export function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    n: sorted.length,
  };
}

/**
 * Prints one verdict. `value` and `goal` are numbers compared with `atMost` (the default: lower is
 * better); `format` renders both (e.g. `(v) => `${v.toFixed(2)}×``).
 * @returns whether the target was met
 */
export function verdict(name, value, goal, format = (v) => v.toFixed(2)) {
  const met = Number.isFinite(value) && value <= goal;
  console.log(`TARGET ${met ? 'MET   ' : 'MISSED'} ${name}: ${format(value)} (goal ≤ ${format(goal)})`);
  return met;
}

export const times = (v) => `${v.toFixed(2)}×`;
export const millis = (v) => `${v.toFixed(2)} ms`;
