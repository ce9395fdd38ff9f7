/**
 * The end-of-run table the Vitest and Jest reporters print: per function, cold starts, warm hits,
 * p50/p95 invoke time and errors.
 */

export interface SummaryRow {
  function: string;
  invocations: number;
  coldStarts: number;
  warmHits: number;
  errors: number;
  /** Median invoke time in ms (request to the instance; queueing excluded). */
  p50Ms: number;
  p95Ms: number;
  /** Instances launched for the function during the run. */
  launches: number;
  /** Event (asynchronous) calls accepted, and those that failed after their retries. */
  events?: number;
  eventsFailed?: number;
}

/** The part of the pool's per-function stats the summary reads. */
export interface SummarySource {
  coldStarts: number;
  warmHits: number;
  invocations: number;
  errors: number;
  launches?: number;
  durationsMs?: { count: number; p50: number; p95: number };
}

/** Event calls per function, as the pool server counts them. */
export interface EventCounts {
  events: number;
  failed: number;
}

export function summaryRows(
  stats: Record<string, SummarySource>,
  events: Record<string, EventCounts> = {},
): SummaryRow[] {
  return Object.entries(stats)
    .map(([name, s]) => ({
      ...(events[name] ? { events: events[name].events, eventsFailed: events[name].failed } : {}),
      function: name,
      invocations: s.invocations,
      coldStarts: s.coldStarts,
      warmHits: s.warmHits,
      errors: s.errors,
      p50Ms: s.durationsMs?.count ? s.durationsMs.p50 : 0,
      p95Ms: s.durationsMs?.count ? s.durationsMs.p95 : 0,
      launches: s.launches ?? s.coldStarts,
    }))
    .sort((a, b) => a.function.localeCompare(b.function));
}

const COLUMNS: { title: string; cell: (r: SummaryRow) => string; right: boolean }[] = [
  { title: 'function', cell: (r) => r.function, right: false },
  { title: 'invokes', cell: (r) => String(r.invocations), right: true },
  { title: 'cold', cell: (r) => String(r.coldStarts), right: true },
  { title: 'warm', cell: (r) => String(r.warmHits), right: true },
  { title: 'p50 ms', cell: (r) => (r.invocations ? r.p50Ms.toFixed(1) : '-'), right: true },
  { title: 'p95 ms', cell: (r) => (r.invocations ? r.p95Ms.toFixed(1) : '-'), right: true },
  { title: 'errors', cell: (r) => String(r.errors), right: true },
];

const EVENTS_COLUMN = {
  title: 'events',
  cell: (r: SummaryRow) => `${r.events ?? 0}${r.eventsFailed ? ` (${r.eventsFailed} failed)` : ''}`,
  right: true,
};

/** A plain-text table (no colours: reporters decide), or one line when nothing was invoked. */
export function formatSummary(rows: readonly SummaryRow[]): string {
  if (rows.length === 0 || rows.every((r) => r.invocations === 0)) {
    return 'lambda-testkit: no function was invoked.';
  }
  // The Event column only appears in a run that made Event calls.
  const columns = rows.some((r) => r.events) ? [...COLUMNS, EVENTS_COLUMN] : COLUMNS;
  const table = [columns.map((c) => c.title), ...rows.map((r) => columns.map((c) => c.cell(r)))];
  const widths = columns.map((_, i) => Math.max(...table.map((line) => (line[i] ?? '').length)));
  const render = (line: string[]) =>
    line
      .map((cell, i) => (columns[i]?.right ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const [head, ...body] = table;
  return ['lambda-testkit', render(head ?? []), ...body.map(render)].join('\n');
}
