/**
 * Runs Vitest in a child process in a project folder, as a user would (`pnpm exec vitest run`),
 * and collects its JSON report, its output and the lambda-testkit table it printed.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCollecting } from '../support/run-collecting.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface VitestReport {
  success: boolean;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  testResults: {
    name: string;
    status: string;
    message: string;
    assertionResults: { fullName: string; status: string }[];
  }[];
}

export interface SummaryLine {
  function: string;
  invokes: number;
  cold: number;
  warm: number;
  errors: number;
  /** The `events` column, printed only when some function had Event invocations. */
  events?: number;
}

export interface VitestRun {
  code: number | null;
  output: string;
  report: VitestReport;
  /** Rows of the table the lambda-testkit reporter printed at the end of the run. */
  summary: SummaryLine[];
}

/** These suites use the packages as users get them (dist): fail loudly when they are not built. */
export function assertBuilt(): void {
  for (const file of [
    'packages/core/dist/index.js',
    'packages/vitest/dist/index.js',
    'packages/vitest/dist/plugin.js',
  ]) {
    if (!existsSync(join(repoRoot, file))) {
      throw new Error(`${file} is missing: these suites run the built packages. Run \`pnpm build\` first.`);
    }
  }
}

/** Parses the lambda-testkit table (see core's `formatSummary`). */
export function parseSummary(output: string): SummaryLine[] {
  const lines = output.split('\n');
  const head = lines.findIndex((l) =>
    // The reporter adds an `events` column when a function had Event invocations.
    /^function\s+invokes\s+cold\s+warm\s+p50 ms\s+p95 ms\s+errors(\s+events)?\s*$/.test(l),
  );
  if (head < 0) return [];
  const rows: SummaryLine[] = [];
  for (const line of lines.slice(head + 1)) {
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+\s+\S+\s+(\d+)(?:\s+(\d+))?\s*$/.exec(line);
    if (!m) break;
    rows.push({
      function: m[1] ?? '',
      invokes: +(m[2] ?? 0),
      cold: +(m[3] ?? 0),
      warm: +(m[4] ?? 0),
      errors: +(m[5] ?? 0),
      ...(m[6] === undefined ? {} : { events: +m[6] }),
    });
  }
  return rows;
}

export interface RunVitestOptions {
  env?: Record<string, string>;
  /** A `vitest.mjs` to run with this Node instead of `pnpm exec vitest` (the project's own). */
  vitestBin?: string;
  /** Reporters added on the command line (which replaces the config's `reporters`). */
  reporters?: string[];
}

/** Runs `vitest run` in `cwd` with the default and JSON reporters (plus `reporters`). */
export async function runVitest(cwd: string, options: RunVitestOptions = {}): Promise<VitestRun> {
  const { env = {}, vitestBin, reporters = [] } = options;
  const reportFile = join(mkdtempSync(join(tmpdir(), 'ltk-vitest-run-')), 'report.json');
  const args = [
    'run',
    '--reporter=default',
    '--reporter=json',
    ...reporters.map((r) => `--reporter=${r}`),
    `--outputFile.json=${reportFile}`,
  ];
  const { code, output } = await runCollecting(
    vitestBin ? process.execPath : 'pnpm',
    vitestBin ? [vitestBin, ...args] : ['exec', 'vitest', ...args],
    {
      cwd,
      // No colours, so the table parses; nothing inherited that would point workers elsewhere.
      env: {
        ...process.env,
        NO_COLOR: '1',
        FORCE_COLOR: '0',
        LAMBDA_TESTKIT_BACKEND: '',
        LAMBDA_TESTKIT_IMAGE: '',
        ...env,
      },
    },
  );
  if (!existsSync(reportFile))
    throw new Error(`Vitest wrote no report (exit ${code}); its output:\n${output}`);
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as VitestReport;
  return { code, output, report, summary: parseSummary(output) };
}
