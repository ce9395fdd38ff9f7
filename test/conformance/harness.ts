/**
 * Starts the emulator CLI as a child process, exactly as the container does (the ProcessBackend runs
 * the same emulator as a library in its own process),
 * with either runtime client behind it: lambda-testkit's own Node bootstrap, or AWS's
 * aws-lambda-ric@4 (a real client nobody here wrote).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const fixturesDir = join(here, 'fixtures');
export const emulatorCli = join(here, '..', '..', 'packages', 'core', 'src', 'emulator', 'cli.ts');
export const INVOKE_PATH = '/2015-03-31/functions/function/invocations';

/** aws-lambda-ric@4's entry (`bin` → `index.mjs`), resolved from the `test/` package that depends on it. */
export const ricEntry = join(
  dirname(createRequire(join(here, '..', 'package.json')).resolve('aws-lambda-ric/package.json')),
  'index.mjs',
);

export interface RuntimeClient {
  name: 'own' | 'ric';
  /** `--bootstrap` value, or undefined for the emulator's default (the own bootstrap). */
  bootstrap: string | undefined;
}

export const CLIENTS: RuntimeClient[] = [
  { name: 'own', bootstrap: undefined },
  { name: 'ric', bootstrap: ricEntry },
];

export interface StartOptions {
  handler: string;
  client: RuntimeClient;
  env?: Record<string, string>;
  profile?: 'rie' | 'lambda';
  taskRoot?: string;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
}

export class EmulatorUnderTest {
  readonly url: string;
  readonly child: ChildProcess;
  /** The Runtime API's port on 127.0.0.1 (from the ready message). */
  readonly runtimeApiPort: number;
  stdout = '';
  stderr = '';

  constructor(url: string, child: ChildProcess, runtimeApiPort: number) {
    this.url = url;
    this.child = child;
    this.runtimeApiPort = runtimeApiPort;
  }

  async invoke(event: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const body = Buffer.isBuffer(event) ? event : Buffer.from(JSON.stringify(event));
    const res = await fetch(`${this.url}${INVOKE_PATH}`, { method: 'POST', body, headers });
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body: bytes, text: bytes.toString('utf8') };
  }

  /** Waits until stdout holds a line matching `pattern` (the child's pipe may lag the HTTP answer). */
  async waitForStdout(pattern: RegExp, timeoutMs = 5_000): Promise<RegExpMatchArray> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const match = this.stdout.match(pattern);
      if (match) return match;
      if (Date.now() > until) throw new Error(`stdout never matched ${pattern}; stdout was:\n${this.stdout}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The lines of one invocation, START to REPORT inclusive. */
  async logsOf(requestId: string): Promise<string> {
    const [block] = await this.waitForStdout(
      new RegExp(`START RequestId: ${requestId}[\\s\\S]*?REPORT RequestId: ${requestId}[^\\n]*\\n`),
    );
    return block;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

export async function startEmulator(options: StartOptions): Promise<EmulatorUnderTest> {
  const args = ['--port', '0'];
  if (options.client.bootstrap) args.push('--bootstrap', options.client.bootstrap);
  if (options.profile) args.push('--profile', options.profile);
  args.push(options.handler);
  const child = fork(emulatorCli, args, {
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      PATH: process.env.PATH ?? '',
      AWS_LAMBDA_FUNCTION_NAME: 'conformance-fn',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_FUNCTION_TIMEOUT: '10',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/conformance-fn',
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef',
      AWS_REGION: 'eu-west-1',
      LAMBDA_TESTKIT_ACCOUNT_ID: '111122223333',
      LAMBDA_TASK_ROOT: options.taskRoot ?? fixturesDir,
      ...options.env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
    if (emulator) emulator.stdout = stdout;
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
    if (emulator) emulator.stderr = stderr;
  });
  let emulator: EmulatorUnderTest | undefined;
  const { port, runtimeApiPort } = await new Promise<{ port: number; runtimeApiPort: number }>(
    (resolve, reject) => {
      child.once('message', (m: { type?: string; port?: number; runtimeApiPort?: number }) => {
        if (m.type === 'ready' && typeof m.port === 'number' && typeof m.runtimeApiPort === 'number') {
          resolve({ port: m.port, runtimeApiPort: m.runtimeApiPort });
        }
      });
      child.once('exit', (code) =>
        reject(new Error(`emulator exited with ${code} before ready:\n${stderr}`)),
      );
    },
  );
  emulator = new EmulatorUnderTest(`http://127.0.0.1:${port}`, child, runtimeApiPort);
  emulator.stdout = stdout;
  emulator.stderr = stderr;
  return emulator;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitUntilGone(pid: number, timeoutMs = 3_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return !isAlive(pid);
}
