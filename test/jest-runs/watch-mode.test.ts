// A real `jest --watchAll` process: the pool stays warm across reruns, a code change gets a fresh
// instance on the next rerun, and SIGTERM to the watcher stops every instance it started.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertBuilt, repoRoot } from './run-jest.ts';

// Inside the repo (not the OS tmpdir) so the project resolves @lambda-testkit/jest from test/node_modules.
let dir: string;
let jest: ChildProcess | undefined;
let output = '';

const handler = (version: string) => `export const handler = async () => ({ version: '${version}' });\n`;
const testFile = (run: number) =>
  "const { lambda } = require('@lambda-testkit/jest');\n" +
  `it('reports the version (edit ${run})', async () => {\n` +
  "  const r = await lambda.invoke('versioned');\n" +
  "  process.stderr.write('VERSION=' + r.payload.version + ' COLD=' + r.coldStart + '\\n');\n" +
  '  expect(r.statusCode).toBe(200);\n});\n';

async function waitFor(pattern: RegExp, from: number, timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const match = pattern.exec(output.slice(from));
    if (match) return from + match.index + match[0].length;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out waiting for ${pattern} in the watcher's output:\n${output.slice(from)}`);
}

/** Waits for the end of a watch run; Jest ignores file events that arrive while a run is going. */
async function runDone(from: number): Promise<number> {
  const at = await waitFor(/Ran all test suites\./, from);
  await new Promise((r) => setTimeout(r, 500));
  return at;
}

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(repoRoot, 'test/jest-runs/.watch-'));
  mkdirSync(join(dir, 'fn'));
  writeFileSync(join(dir, 'fn/index.mjs'), handler('v1'));
  writeFileSync(
    join(dir, 'lambda-testkit.config.mjs'),
    "export default { functions: { versioned: { runtime: 'nodejs22.x', code: './fn', handler: 'index.handler' } } };\n",
  );
  writeFileSync(
    join(dir, 'jest.config.cjs'),
    "module.exports = { preset: '@lambda-testkit/jest', rootDir: __dirname, testMatch: ['<rootDir>/*.test.cjs'] };\n",
  );
  writeFileSync(join(dir, 'versioned.test.cjs'), testFile(1));
});

afterAll(() => {
  if (jest?.exitCode === null) jest.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('keeps the pool across reruns, refreshes changed code, and stops on SIGTERM', async () => {
  const jestBin = join(
    dirname(createRequire(join(repoRoot, 'test/package.json')).resolve('jest/package.json')),
    'bin/jest.js',
  );
  const child = spawn(process.execPath, [jestBin, '--watchAll', '--config', join(dir, 'jest.config.cjs')], {
    cwd: dir,
    env: {
      ...process.env,
      LAMBDA_TESTKIT_BACKEND: 'process',
      LAMBDA_TESTKIT_URL: '',
      LAMBDA_TESTKIT_TOKEN: '',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  jest = child;
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });

  // First run: a cold start, then the summary (printed after Jest's, before it reports the run done).
  let at = await waitFor(/VERSION=v1 COLD=true/, 0);
  at = await runDone(await waitFor(/versioned\s+1\s+1\s+0/, at));

  // Rerun without a code change: the same instance, warm.
  writeFileSync(join(dir, 'versioned.test.cjs'), testFile(2));
  at = await runDone(await waitFor(/VERSION=v1 COLD=false/, at));

  // A code change: the rerun's globalSetup refreshes the deploy id, a fresh instance serves v2.
  writeFileSync(join(dir, 'fn/index.mjs'), handler('v2'));
  at = await waitFor(/code changed: versioned/, at);
  at = await runDone(await waitFor(/VERSION=v2 COLD=true/, at));
  expect(output.match(/pool server on/g)).toHaveLength(1);

  // The instances are children of the watcher's main process; SIGTERM must take them down with it.
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' })
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((pid) => pid > 0);
  // The runtimes of its instances (and the spare the backend keeps ready) run lambda-testkit's runtime entry.
  const runtimes = children.filter((pid) => {
    try {
      return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).includes(
        'runtime-entry',
      );
    } catch {
      return false;
    }
  });
  expect(runtimes.length).toBeGreaterThan(0);

  const exited = new Promise<NodeJS.Signals | number | null>((done) =>
    child.on('exit', (code, signal) => done(signal ?? code)),
  );
  child.kill('SIGTERM');
  expect(await exited).toBe('SIGTERM');
  // Gone, not merely dying: a killed child is collected by init once the watcher is gone.
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return !/^\S+\s+\S+\s+Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/\(.*\)/, 'x'));
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 5_000;
  while (runtimes.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of runtimes) {
    expect(alive(pid), `runtime ${pid} still alive`).toBe(false);
  }
});
