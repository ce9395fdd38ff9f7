/**
 * What the emulator reads from its own environment, like RIE does
 * (docs/lambda-apis.md#emulator-environment-variables), with RIE's defaults where the variable is unset.
 * Backends give the emulator `sandboxEnvironment()` (src/sandbox-env.ts), so in practice every value is set.
 */
import { INSPECT_VARIABLE, INSPECT_WAIT_VARIABLE, RUNTIME_WRAPPER_VARIABLE } from './protocol.ts';
import type { PlatformLogConfig, SystemLogLevel } from './report-lines.ts';

/** Thrown for a setting the emulator cannot run with; the CLI prints it and exits 1. */
export class EmulatorConfigError extends Error {
  override name = 'EmulatorConfigError';
}

export interface FunctionConfig {
  functionName: string;
  functionVersion: string;
  memorySizeMb: number;
  /**
   * Whole seconds, counted from the delivery of the event; on a cold start the init phase has its
   * own limit first (`INIT_TIMEOUT_MS` in sandbox.ts), as on Lambda (docs/emulator.md#init-phase).
   */
  timeoutSeconds: number;
  region: string;
  accountId: string;
  /** `arn:aws:lambda:<region>:<account>:function:<name>` (RIE hard-codes region and account; we do not). */
  functionArn: string;
  /** The runtime's cwd and `LAMBDA_TASK_ROOT`. */
  taskRoot: string;
  runtimeDir: string;
  /**
   * Freeze the runtime between invocations (SIGSTOP/SIGCONT of its process group), as Lambda does
   * (docs/emulator.md#freeze). `LAMBDA_TESTKIT_FREEZE=false` turns it off.
   */
  freeze: boolean;
  /**
   * Run the runtime as this unprivileged user (`LAMBDA_TESTKIT_RUNTIME_USER=uid:gid`), as Lambda runs
   * function code: it can then write only where that user may (docs/emulator.md#file-system).
   */
  runtimeUser?: { uid: number; gid: number };
  /**
   * Argv the runtime's command is started through (`LAMBDA_TESTKIT_RUNTIME_WRAPPER`, a JSON array), such
   * as the process backend's confinement launcher (docs/emulator.md#file-system). The launcher enters
   * `taskRoot` itself: the runtime is spawned in the emulator's working directory.
   */
  runtimeWrapper?: string[];
  /** Runtime id from the backend (`LAMBDA_TESTKIT_RUNTIME`, e.g. `nodejs22.x`), if any. */
  runtimeId?: string;
  /**
   * Format and system level of the platform's records: `AWS_LAMBDA_LOG_FORMAT` (the runtime reads it
   * too) and `LAMBDA_TESTKIT_SYSTEM_LOG_LEVEL` (docs/lambda-apis.md#logging-configuration).
   */
  logging: PlatformLogConfig;
  /**
   * Start the runtime with the Node inspector behind the emulator's proxy, which listens here
   * (`LAMBDA_TESTKIT_INSPECT=host:port`); `wait` holds the runtime until a debugger attaches
   * (`LAMBDA_TESTKIT_INSPECT_WAIT=true`). See inspector-proxy.ts.
   */
  inspect?: InspectConfig;
  /**
   * Run the function's init at start, before any invoke, as provisioned concurrency does
   * (`LAMBDA_TESTKIT_INIT_AHEAD=1`, docs/emulator.md#init-ahead). @default false
   */
  initAhead: boolean;
}

export interface InspectConfig {
  host: string;
  port: number;
  wait: boolean;
}

export const DEFAULT_ACCOUNT_ID = '123456789012';

/**
 * The Runtime id the backend passes so the emulator can set `AWS_EXECUTION_ENV`
 * (docs/lambda-apis.md#sandbox-environment).
 */
export const RUNTIME_ID_VARIABLE = 'LAMBDA_TESTKIT_RUNTIME';

/**
 * The runtime's `NODE_OPTIONS`, carried past the emulator under this name: the emulator is a Node
 * process too, and must not take the function's options (an `--inspect` would give it the
 * debugger port meant for the runtime). The emulator hands the value back as `NODE_OPTIONS`.
 */
export const RUNTIME_NODE_OPTIONS_VARIABLE = 'LAMBDA_TESTKIT_NODE_OPTIONS';

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  // RIE panics on a non-integer timeout (docs/lambda-apis.md#rie-answers); we refuse to start instead.
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new EmulatorConfigError(
      `Expected ${name} to be a whole number of ${name.endsWith('TIMEOUT') ? 'seconds' : 'megabytes'} (1 or more), got "${raw}". ` +
        `Set it to an integer such as ${fallback}, or unset it.`,
    );
  }
  return Number(raw);
}

/** Variable that turns the freeze between invocations off (`false` or `0`). */
export const FREEZE_VARIABLE = 'LAMBDA_TESTKIT_FREEZE';

function readFreeze(env: NodeJS.ProcessEnv): boolean {
  const raw = (env[FREEZE_VARIABLE] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new EmulatorConfigError(
    `Expected ${FREEZE_VARIABLE} to be true or false, got "${env[FREEZE_VARIABLE]}". Set it to false to run without freezing, or unset it.`,
  );
}

function readInspect(env: NodeJS.ProcessEnv): InspectConfig | undefined {
  const raw = env[INSPECT_VARIABLE];
  if (raw === undefined || raw === '') return undefined;
  const match = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(raw);
  if (!match || Number(match[2]) > 65535) {
    throw new EmulatorConfigError(
      `Expected ${INSPECT_VARIABLE} to be "<IPv4 address>:<port>" (e.g. 127.0.0.1:0), got "${raw}". Fix or unset it.`,
    );
  }
  const wait = (env[INSPECT_WAIT_VARIABLE] ?? '').trim().toLowerCase();
  if (!['', 'true', '1', 'false', '0'].includes(wait)) {
    throw new EmulatorConfigError(
      `Expected ${INSPECT_WAIT_VARIABLE} to be true or false, got "${env[INSPECT_WAIT_VARIABLE]}". Fix or unset it.`,
    );
  }
  return { host: match[1]!, port: Number(match[2]), wait: wait === 'true' || wait === '1' };
}

/** Variable that makes the emulator run the init at start (`1` or `true`); set by backends for prewarm. */
export const INIT_AHEAD_VARIABLE = 'LAMBDA_TESTKIT_INIT_AHEAD';

function readInitAhead(env: NodeJS.ProcessEnv): boolean {
  const raw = (env[INIT_AHEAD_VARIABLE] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new EmulatorConfigError(
    `Expected ${INIT_AHEAD_VARIABLE} to be true or false, got "${env[INIT_AHEAD_VARIABLE]}". Set it to 1 to run the init at start, or unset it.`,
  );
}

/** `uid:gid` of the unprivileged user the runtime runs as (set by the Docker backend). */
export const RUNTIME_USER_VARIABLE = 'LAMBDA_TESTKIT_RUNTIME_USER';

function readRuntimeUser(env: NodeJS.ProcessEnv): { uid: number; gid: number } | undefined {
  const raw = env[RUNTIME_USER_VARIABLE];
  if (raw === undefined || raw === '') return undefined;
  const match = /^(\d+):(\d+)$/.exec(raw);
  if (!match) {
    throw new EmulatorConfigError(
      `Expected ${RUNTIME_USER_VARIABLE} to be "uid:gid" (numbers, e.g. 993:990), got "${raw}". Fix or unset it.`,
    );
  }
  return { uid: Number(match[1]), gid: Number(match[2]) };
}

function readRuntimeWrapper(env: NodeJS.ProcessEnv): string[] | undefined {
  const raw = env[RUNTIME_WRAPPER_VARIABLE];
  if (raw === undefined || raw === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((a) => typeof a === 'string')) {
    throw new EmulatorConfigError(
      `Expected ${RUNTIME_WRAPPER_VARIABLE} to be a JSON array of strings (a launcher's argv), got "${raw}". Fix or unset it.`,
    );
  }
  return parsed as string[];
}

/** The emulator's system log level; the backend sets it from the function's `loggingConfig`. */
export const SYSTEM_LOG_LEVEL_VARIABLE = 'LAMBDA_TESTKIT_SYSTEM_LOG_LEVEL';

function readLogging(env: NodeJS.ProcessEnv): PlatformLogConfig {
  // As the Node runtime reads it: JSON in any case means JSON, anything else Text.
  const format = env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON' ? 'JSON' : 'Text';
  const raw = (env[SYSTEM_LOG_LEVEL_VARIABLE] ?? '').trim().toUpperCase();
  if (raw !== '' && raw !== 'DEBUG' && raw !== 'INFO' && raw !== 'WARN') {
    throw new EmulatorConfigError(
      `Expected ${SYSTEM_LOG_LEVEL_VARIABLE} to be DEBUG, INFO or WARN, got "${env[SYSTEM_LOG_LEVEL_VARIABLE]}". Fix or unset it.`,
    );
  }
  return { format, systemLogLevel: (raw || 'INFO') as SystemLogLevel };
}

export function readFunctionConfig(env: NodeJS.ProcessEnv): FunctionConfig {
  const functionName = env.AWS_LAMBDA_FUNCTION_NAME || 'test_function';
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const accountId = env.LAMBDA_TESTKIT_ACCOUNT_ID || DEFAULT_ACCOUNT_ID;
  if (!/^\d{12}$/.test(accountId)) {
    throw new EmulatorConfigError(
      `Expected LAMBDA_TESTKIT_ACCOUNT_ID to be a 12-digit AWS account id, got "${accountId}". Fix or unset it.`,
    );
  }
  const runtimeId = env[RUNTIME_ID_VARIABLE] || undefined;
  const runtimeUser = readRuntimeUser(env);
  const runtimeWrapper = readRuntimeWrapper(env);
  const inspect = readInspect(env);
  return {
    functionName,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION || '$LATEST',
    memorySizeMb: positiveInteger(env, 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 3008),
    timeoutSeconds: positiveInteger(env, 'AWS_LAMBDA_FUNCTION_TIMEOUT', 300),
    region,
    accountId,
    functionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    taskRoot: env.LAMBDA_TASK_ROOT || '/var/task',
    runtimeDir: env.LAMBDA_RUNTIME_DIR || '/var/runtime',
    freeze: readFreeze(env),
    logging: readLogging(env),
    initAhead: readInitAhead(env),
    ...(runtimeUser ? { runtimeUser } : {}),
    ...(runtimeWrapper ? { runtimeWrapper } : {}),
    ...(runtimeId ? { runtimeId } : {}),
    ...(inspect ? { inspect } : {}),
  };
}

/**
 * The environment of the runtime process: the emulator's own environment forwarded unchanged
 * (docs/lambda-apis.md#emulator-environment-variables, last row), RIE's defaults for the variables
 * runtime clients require (aws-lambda-ric@4 refuses to start without the five function variables,
 * docs/lambda-apis.md#runtime-api), plus what only the emulator knows.
 */
export function runtimeEnvironment(
  env: NodeJS.ProcessEnv,
  config: FunctionConfig,
  handler: string,
  runtimeApi: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  const runtimeNodeOptions = out[RUNTIME_NODE_OPTIONS_VARIABLE];
  delete out[RUNTIME_NODE_OPTIONS_VARIABLE];
  // The platform's setting, not the runtime's (Lambda gives the runtime no such variable).
  delete out[SYSTEM_LOG_LEVEL_VARIABLE];
  delete out[INSPECT_VARIABLE];
  delete out[INSPECT_WAIT_VARIABLE];
  delete out[INIT_AHEAD_VARIABLE];
  // The launcher is the emulator's business; the handler never sees it.
  delete out[RUNTIME_WRAPPER_VARIABLE];
  if (runtimeNodeOptions) out.NODE_OPTIONS = runtimeNodeOptions;
  const defaults: Record<string, string> = {
    AWS_LAMBDA_FUNCTION_NAME: config.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: config.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memorySizeMb),
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/Functions',
    AWS_LAMBDA_LOG_STREAM_NAME: '$LATEST',
    AWS_REGION: config.region,
    AWS_DEFAULT_REGION: config.region,
    LAMBDA_TASK_ROOT: config.taskRoot,
    LAMBDA_RUNTIME_DIR: config.runtimeDir,
  };
  for (const [key, value] of Object.entries(defaults)) if (!out[key]) out[key] = value;
  // The V8 heap may not outgrow the function's memory (docs/emulator.md#memory); the emulator's
  // resident-size watch enforces the rest. A limit the user set in NODE_OPTIONS wins.
  const nodeOptions = out.NODE_OPTIONS ?? '';
  if (!nodeOptions.includes('--max-old-space-size')) {
    out.NODE_OPTIONS = `${nodeOptions} --max-old-space-size=${config.memorySizeMb}`.trim();
  }
  // The runtime's own inspector, on a port the system picks: only the emulator's proxy talks to it
  // (inspector-proxy.ts), which learns the port from Node's "Debugger listening on" line.
  if (config.inspect) {
    const flag = config.inspect.wait ? '--inspect-wait' : '--inspect';
    out.NODE_OPTIONS = `${out.NODE_OPTIONS} ${flag}=127.0.0.1:0`.trim();
  }
  if (config.runtimeId && !out.AWS_EXECUTION_ENV) out.AWS_EXECUTION_ENV = `AWS_Lambda_${config.runtimeId}`;
  out.AWS_LAMBDA_RUNTIME_API = runtimeApi;
  out._HANDLER = handler;
  return out;
}
