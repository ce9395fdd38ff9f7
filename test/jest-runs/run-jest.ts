/**
 * Runs Jest in a child process as a user would, and collects its `--json` report, its output and
 * the lambda-testkit reporter's summary file.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SummaryRow } from '@lambda-testkit/core';
import { runCollecting } from '../support/run-collecting.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface JestReport {
  success: boolean;
  numPassedTests: number;
  numFailedTests: number;
  numTotalTests: number;
  testResults: { name: string; status: string; message: string }[];
}

export interface JestRun {
  code: number | null;
  output: string;
  report: JestReport;
  /** Per-function rows written by `['@lambda-testkit/jest/reporter', { outputFile }]`. */
  summary: SummaryRow[];
  /** The backend the run's pool used (same file). */
  backend?: string;
}

export interface RunJestOptions {
  /** The project folder Jest runs in (its rootDir). */
  cwd: string;
  /** The Jest config file to extend (relative to cwd). */
  config: string;
  /** The jest package to run (folder containing `bin/jest.js`). @default cwd's node_modules/jest */
  jestDir?: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
}

/** The adapter is consumed built (dist), as users get it: fail loudly when it is not. */
export function assertBuilt(): void {
  for (const file of [
    'packages/jest/dist/index.cjs',
    'packages/jest/dist/global-setup.js',
    'packages/core/dist/index.js',
  ]) {
    if (!existsSync(join(repoRoot, file))) {
      throw new Error(`${file} is missing: these suites run the built packages. Run \`pnpm build\` first.`);
    }
  }
}

export async function runJest(options: RunJestOptions): Promise<JestRun> {
  const work = mkdtempSync(join(tmpdir(), 'ltk-jest-run-'));
  const reportFile = join(work, 'report.json');
  const summaryFile = join(work, 'summary.json');
  // A config that is the project's own plus the summary file: the user's preset stays as written.
  const configFile = join(work, 'jest.config.mjs');
  writeFileSync(
    configFile,
    `import base from ${JSON.stringify(join(options.cwd, options.config))};\n` +
      `export default {\n  ...base,\n  rootDir: ${JSON.stringify(options.cwd)},\n` +
      `  reporters: ['default', ['@lambda-testkit/jest/reporter', { outputFile: ${JSON.stringify(summaryFile)} }]],\n};\n`,
  );
  const jestBin = join(options.jestDir ?? join(options.cwd, 'node_modules/jest'), 'bin/jest.js');
  const args = [
    ...(options.nodeArgs ?? []),
    jestBin,
    '--ci',
    '--config',
    configFile,
    '--json',
    '--outputFile',
    reportFile,
  ];
  const { code, output } = await runCollecting(process.execPath, args, {
    cwd: options.cwd,
    env: { ...process.env, LAMBDA_TESTKIT_URL: '', LAMBDA_TESTKIT_TOKEN: '', ...options.env },
  });
  if (!existsSync(reportFile)) {
    throw new Error(`Jest wrote no report (exit ${code}); its output:\n${output}`);
  }
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as JestReport;
  const written = existsSync(summaryFile)
    ? (JSON.parse(readFileSync(summaryFile, 'utf8')) as { backend?: string; functions: SummaryRow[] })
    : { functions: [] };
  return { code, output, report, summary: written.functions, backend: written.backend };
}
