/**
 * `startEmulator`: the project's RIE-compatible emulator as a library (the CLI is a thin shell
 * around it). One emulator = one function sandbox = one invocation at a time.
 */
import { existsSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmulatorConfigError, readFunctionConfig } from './config.ts';
import {
  type DirectAnswer,
  type DirectInvokeRequest,
  InvokeHandling,
  type Profile,
} from './invoke-handling.ts';
import { createInvokeServer } from './invoke-server.ts';
import { INVOKE_SECRET_VARIABLE } from './protocol.ts';
import {
  commandFor,
  type RuntimeCommand,
  type RuntimeOutput,
  type RuntimeProcess,
  withWrapper,
} from './runtime-process.ts';
import { Sandbox } from './sandbox.ts';

export interface EmulatorOptions {
  /** The handler string given to the runtime as `_HANDLER`, e.g. `index.handler`. */
  handler: string;
  /**
   * Interface of the invoke endpoint. The Runtime API always binds 127.0.0.1.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Port of the invoke endpoint; 0 picks a free one.
   * @default 8080
   */
  port?: number;
  /**
   * Port of the Runtime API; 0 picks a free one.
   * @default 0
   */
  runtimeApiPort?: number;
  /**
   * Path of the runtime client to spawn. Scripts (`.js`, `.mjs`, `.cjs`, `.ts`) run with this Node;
   * anything else is executed directly (e.g. `/var/runtime/bootstrap`).
   * @default the Node bootstrap shipped beside the emulator (`../bootstrap/node/index.{ts,js}`)
   */
  bootstrap?: string;
  /**
   * How invoke answers are shaped: `rie` as AWS's RIE (docs/lambda-apis.md#rie-answers), `lambda` as the
   * Lambda Invoke API (docs/lambda-apis.md#invoke-api-requests).
   * @default 'rie'
   */
  profile?: Profile;
  /**
   * The sandbox environment (function name, timeout, region, …), read as RIE reads its own
   * environment (docs/lambda-apis.md#emulator-environment-variables) and forwarded to the runtime.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv;
  /**
   * Where the runtime's output and the START/END/REPORT lines go. Unset, the runtime inherits the
   * emulator's stdio, which keeps its lines strictly before END/REPORT; piped, the order of the
   * runtime's lines relative to END/REPORT is best effort.
   * @default the emulator's own stdout/stderr (inherited)
   */
  output?: RuntimeOutput;
  /**
   * The invoke secret every request must carry in `x-lambda-testkit-invoke-secret`
   * (docs/security.md#instances-and-the-runtime-api). Never forwarded to the runtime.
   * @default `env.LAMBDA_TESTKIT_INVOKE_SECRET`; unset or empty, requests are not checked (as AWS's RIE)
   */
  invokeSecret?: string;
  /**
   * Longest wait for an invoke request's headers, in ms: an idle or dripping connection is answered
   * 408 and closed after it.
   * @default 10000
   */
  headersTimeoutMs?: number;
  /**
   * Longest wait for a whole invoke request (headers and body), in ms. The invocation that follows
   * is not covered: it has the function timeout.
   * @default 30000
   */
  requestTimeoutMs?: number;
  /**
   * A runtime process started ahead of its function, given its environment at the first cold start
   * (see `SandboxOptions.prestarted`). Used by the process backend's spare runtimes.
   * @default none: the first invoke spawns the runtime
   */
  prestarted?: RuntimeProcess;
  /**
   * How to start the runtime, when the caller builds the command itself (the process backend wraps
   * the launch); `bootstrap` is then only checked to exist.
   * @default `bootstrap` run with this Node (scripts) or directly
   */
  command?: RuntimeCommand;
  /**
   * Run the function's init before the invoke endpoint listens, as provisioned concurrency does
   * (docs/emulator.md#init-ahead): the promise resolves once the runtime asks for its first event (or
   * its init failed, which the first invoke then retries). Ignored for a debugged function.
   * @default `LAMBDA_TESTKIT_INIT_AHEAD` in `env` (false when unset)
   */
  initAhead?: boolean;
  /** Called with the pid of every runtime process the sandbox uses, once started. @default none */
  onRuntimeStart?: (pid: number) => void;
  /** Called with that pid once the process is gone. @default none */
  onRuntimeExit?: (pid: number) => void;
}

export interface RunningEmulator {
  host: string;
  port: number;
  runtimeApiPort: number;
  /**
   * Port of the inspector proxy in front of the runtime's inspector, when the function is debugged
   * (`LAMBDA_TESTKIT_INSPECT`); it answers 503 until a runtime runs.
   */
  inspectorPort?: number;
  /** Base URL of the invoke endpoint, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /**
   * A buffered invoke from this process, without HTTP: the answer (status, headers, body) the invoke
   * endpoint gives the same request on its RIE route, from the same code and under the same
   * one-invocation-at-a-time guard. No invoke secret: only code in this process can call it. Never
   * rejects (a failure of the emulator itself is its 500 answer). Streaming has no direct form.
   */
  invokeDirect(request: DirectInvokeRequest): Promise<DirectAnswer>;
  /** Kills the runtime process group and closes both servers. Idempotent. */
  close(): Promise<void>;
  /** Synchronous last resort for `process.on('exit')`: kills the runtime group. */
  killRuntime(): void;
}

/** A port is taken: the CLI maps this to exit code 2. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  readonly port: number;
  constructor(what: string, host: string, port: number) {
    super(
      `The ${what} cannot listen on ${host}:${port}: the port is in use. ` +
        `Pick another port (--${what === 'invoke endpoint' ? 'port' : 'runtime-api-port'} <n>, or 0 for a free one).`,
    );
    this.port = port;
  }
}

/**
 * The default bootstrap, next to the emulator in each layout this project ships:
 * `src/emulator/cli.ts` → `src/bootstrap/node/index.ts`; `dist/emulator/cli.js` → `dist/bootstrap/node/index.js`;
 * in the container image the emulator's files may also sit beside a `bootstrap/` folder.
 */
export function defaultBootstrapPath(): string {
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const candidates = [
    join(dirname(here), '..', 'bootstrap', 'node', `index${ext}`),
    join(dirname(here), 'bootstrap', 'node', `index${ext}`),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new EmulatorConfigError(
      `The Node bootstrap was not found next to the emulator (looked at ${candidates.join(', ')}). ` +
        'Ship the bootstrap folder beside the emulator, or pass --bootstrap <path>.',
    );
  }
  return found;
}

async function listen(server: Server, host: string, port: number, what: string): Promise<number> {
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(what, host, port) : error),
    );
    server.listen(port, host, () => resolveListen());
  });
  return (server.address() as AddressInfo).port;
}

export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  const env = options.env ?? process.env;
  const host = options.host ?? '127.0.0.1';
  const profile = options.profile ?? 'rie';
  if (!options.handler) {
    throw new EmulatorConfigError('No handler given. Pass the handler string, e.g. `index.handler`.');
  }
  const config = readFunctionConfig(env);
  // A launcher's task root lies inside the namespace it makes: only the launcher can check it.
  if (!config.runtimeWrapper && (!existsSync(config.taskRoot) || !statSync(config.taskRoot).isDirectory())) {
    throw new EmulatorConfigError(
      `LAMBDA_TASK_ROOT "${config.taskRoot}" is not a directory. Set LAMBDA_TASK_ROOT to the folder holding the function code.`,
    );
  }
  const bootstrap = options.bootstrap ? resolve(options.bootstrap) : defaultBootstrapPath();
  if (!existsSync(bootstrap)) {
    throw new EmulatorConfigError(`The bootstrap "${bootstrap}" does not exist. Fix the --bootstrap path.`);
  }
  const invokeSecret = options.invokeSecret || env[INVOKE_SECRET_VARIABLE] || undefined;
  // The handler must not learn the secret: the runtime gets the environment without it.
  const { [INVOKE_SECRET_VARIABLE]: _secret, ...runtimeEnv } = env;
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  const sandbox = new Sandbox({
    config,
    handler: options.handler,
    command: withWrapper(options.command ?? commandFor(bootstrap), config.runtimeWrapper),
    env: runtimeEnv,
    runtimeApiPort: options.runtimeApiPort ?? 0,
    ...(options.output ? { output: options.output } : {}),
    ...(options.prestarted ? { prestarted: options.prestarted } : {}),
    ...(options.onRuntimeStart ? { onRuntimeStart: options.onRuntimeStart } : {}),
    ...(options.onRuntimeExit ? { onRuntimeExit: options.onRuntimeExit } : {}),
  });
  let runtimeApiPort: number;
  try {
    runtimeApiPort = await sandbox.listen();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new PortInUseError('Runtime API', '127.0.0.1', options.runtimeApiPort ?? 0);
    throw error;
  }
  // Before the invoke endpoint listens: whoever waits for it to answer (a backend's readiness check)
  // finds the init done.
  if (options.initAhead ?? config.initAhead) {
    try {
      await sandbox.initAhead();
    } catch (error) {
      await sandbox.close();
      throw error;
    }
  }
  const handling = new InvokeHandling(sandbox, config, profile);
  const server = createInvokeServer(sandbox, config, profile, handling, {
    secret: invokeSecret,
    headersTimeoutMs,
    // Node refuses a request timeout shorter than the headers timeout.
    requestTimeoutMs: Math.max(options.requestTimeoutMs ?? 30_000, headersTimeoutMs),
  });
  let port: number;
  try {
    port = await listen(server, host, options.port ?? 8080, 'invoke endpoint');
  } catch (error) {
    await sandbox.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    runtimeApiPort,
    ...(sandbox.inspectorAddress ? { inspectorPort: Number(sandbox.inspectorAddress.split(':')[1]) } : {}),
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    invokeDirect: (request) => handling.direct(request),
    killRuntime: () => sandbox.killRuntime(),
    close: () => {
      closing ??= (async () => {
        server.closeAllConnections();
        await Promise.all([new Promise<void>((r) => server.close(() => r())), sandbox.close()]);
      })();
      return closing;
    },
  };
}
