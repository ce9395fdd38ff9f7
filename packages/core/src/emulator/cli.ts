#!/usr/bin/env node
/**
 * lambda-testkit-emulator: the project's RIE-compatible emulator as a command.
 *
 *   node <core>/src/emulator/cli.ts [--host 127.0.0.1] [--port 8080] [--runtime-api-port 0]
 *        [--bootstrap <path>] [--profile rie|lambda] <handler>
 *
 * Contract (ProcessBackend and the Docker image depend on it):
 * - Readiness: with an IPC channel, sends `{ type: 'ready', port, runtimeApiPort }` once listening;
 *   always prints one stderr line `lambda-testkit-emulator listening on <host>:<port>`.
 *   When the IPC channel closes (the parent exited or disconnected), the emulator shuts down,
 *   runtime group included: an orphaned emulator never outlives its owner.
 * - Exit codes: 0 after SIGTERM/SIGINT (runtime process group killed first), 1 for a usage or
 *   configuration error (message + usage on stderr), 2 when a port is in use.
 * - Environment: read as RIE reads its own (docs/lambda-apis.md#emulator-environment-variables):
 *   AWS_LAMBDA_FUNCTION_NAME, _VERSION, _MEMORY_SIZE, AWS_LAMBDA_FUNCTION_TIMEOUT (seconds),
 *   AWS_LAMBDA_LOG_GROUP_NAME, _STREAM_NAME, AWS_REGION, LAMBDA_TESTKIT_ACCOUNT_ID (ARN account, default
 *   123456789012), LAMBDA_TASK_ROOT (runtime cwd, default /var/task), LAMBDA_RUNTIME_DIR,
 *   LAMBDA_TESTKIT_RUNTIME (runtime id such as `nodejs22.x`: sets AWS_EXECUTION_ENV=AWS_Lambda_<id> for the
 *   runtime), LAMBDA_TESTKIT_FREEZE (false: no freeze between invocations), LAMBDA_TESTKIT_RUNTIME_USER
 *   (uid:gid to run the runtime as), LAMBDA_TESTKIT_INSPECT (host:port of the inspector proxy in front
 *   of a debugged runtime's inspector), LAMBDA_TESTKIT_INSPECT_WAIT (true: --inspect-wait),
 *   AWS_LAMBDA_LOG_FORMAT and LAMBDA_TESTKIT_SYSTEM_LOG_LEVEL (the platform records' format and level,
 *   docs/lambda-apis.md#logging-configuration; the level is not forwarded) and
 *   LAMBDA_TESTKIT_INIT_AHEAD (1: run the init before the invoke endpoint listens, as provisioned
 *   concurrency does; docs/emulator.md#init-ahead) and
 *   LAMBDA_TESTKIT_RUNTIME_WRAPPER (JSON argv the runtime is started through, in the emulator's cwd;
 *   docs/emulator.md#file-system). Everything else is forwarded to the runtime, plus
 *   AWS_LAMBDA_RUNTIME_API, _HANDLER and a V8 heap limit in NODE_OPTIONS (docs/emulator.md#lifecycle),
 *   except LAMBDA_TESTKIT_INVOKE_SECRET: when set, every invoke request must carry it in the
 *   x-lambda-testkit-invoke-secret header (docs/security.md); it is never forwarded nor printed.
 * - The handler may also come from `_HANDLER` (set by lambda-entrypoint.sh) when no argument is given.
 *
 * File layout: this folder and `../bootstrap/` import nothing but `node:` builtins, so they can be
 * copied alone. The default runtime is the Node bootstrap found at `../bootstrap/node/index.<ext>`
 * (or `./bootstrap/node/index.<ext>`) relative to this file, `<ext>` being this file's own (`.ts`
 * when run from source, `.js` when built). In the container image (what lambda-entrypoint.sh runs):
 *   /var/runtime/lambda-testkit-emulator/cli.js, config.js, …   (dist/emulator/*.js)
 *   /var/runtime/lambda-testkit-emulator/bootstrap/node/*.js   (dist/bootstrap/node/*.js)
 * The `.js` files are ESM: give the folder a package.json with "type": "module" (Node ≥22.12 also
 * detects ESM syntax without it).
 */
import { parseArgs } from 'node:util';
import { EmulatorConfigError } from './config.ts';
import { PortInUseError, type RunningEmulator, startEmulator } from './emulator.ts';
import { PROFILES, type Profile } from './invoke-server.ts';
import { INVOKE_SECRET_VARIABLE } from './protocol.ts';

const USAGE = `Usage: lambda-testkit-emulator [options] <handler>

Serves POST /2015-03-31/functions/function/invocations like AWS's Runtime Interface Emulator
and runs <handler> (e.g. index.handler) in a runtime process behind a Lambda Runtime API.

Options:
  --host <addr>              interface of the invoke endpoint (default 127.0.0.1)
  --port <n>                 port of the invoke endpoint, 0 = any free port (default 8080)
  --runtime-api-port <n>     port of the Runtime API on 127.0.0.1, 0 = any free port (default 0)
  --bootstrap <path>         runtime client to spawn (default: the bundled Node bootstrap)
  --profile rie|lambda       answer like RIE (default) or like the Lambda Invoke API
  -h, --help                 print this text
`;

function usageError(message: string): never {
  process.stderr.write(`lambda-testkit-emulator: ${message}\n\n${USAGE}`);
  process.exit(1);
}

function port(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    usageError(`Expected ${flag} to be a port number from 0 to 65535, got "${value}".`);
  }
  return Number(value);
}

function parse() {
  try {
    return parseArgs({
      allowPositionals: true,
      strict: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'runtime-api-port': { type: 'string' },
        bootstrap: { type: 'string' },
        profile: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parse();
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (positionals.length > 1)
    usageError(`Expected one handler argument, got ${positionals.length}: ${positionals.join(' ')}.`);
  const handler = positionals[0] ?? process.env.AWS_LAMBDA_FUNCTION_HANDLER ?? process.env._HANDLER;
  if (!handler) usageError('Missing the handler argument (e.g. index.handler).');
  const profile = values.profile ?? 'rie';
  if (!PROFILES.includes(profile as Profile)) {
    usageError(`Expected --profile to be one of ${PROFILES.join(', ')}, got "${profile}".`);
  }

  // Read once and dropped from this process's environment: nothing started later inherits it.
  const invokeSecret = process.env[INVOKE_SECRET_VARIABLE];
  delete process.env[INVOKE_SECRET_VARIABLE];

  let emulator: RunningEmulator;
  try {
    emulator = await startEmulator({
      handler,
      host: values.host ?? '127.0.0.1',
      port: port(values.port, '--port', 8080),
      runtimeApiPort: port(values['runtime-api-port'], '--runtime-api-port', 0),
      profile: profile as Profile,
      ...(invokeSecret ? { invokeSecret } : {}),
      ...(values.bootstrap ? { bootstrap: values.bootstrap } : {}),
    });
  } catch (error) {
    if (error instanceof PortInUseError) {
      process.stderr.write(`lambda-testkit-emulator: ${error.message}\n`);
      process.exit(2);
    }
    if (error instanceof EmulatorConfigError) usageError(error.message);
    throw error;
  }

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Whatever else ends this process, the runtime group must not outlive it.
  process.on('exit', () => emulator.killRuntime());

  process.stderr.write(`lambda-testkit-emulator listening on ${emulator.host}:${emulator.port}\n`);
  if (process.send) {
    process.send({ type: 'ready', port: emulator.port, runtimeApiPort: emulator.runtimeApiPort });
    process.once('disconnect', stop);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `lambda-testkit-emulator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
