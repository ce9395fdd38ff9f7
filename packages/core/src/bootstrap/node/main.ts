/**
 * lambda-testkit's Node runtime client (started by index.ts): a bootstrap that speaks the Lambda Runtime API on
 * `node:http` alone (no native addon), for the emulator and for container images. It reads what
 * the Node runtime reads: AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT, AWS_EXECUTION_ENV
 * (which picks the nodejs22.x or nodejs24.x handler convention, see runtime-loop.ts).
 *
 * Errors that escape the handler (uncaught exceptions, unhandled rejections) are posted to the
 * invocation's `/error` (or to `/init/error` during init) and end the process, with the exit codes
 * of the Node runtime (129, 128; docs/lambda-apis.md#init-errors). The emulator then starts a fresh one.
 */
import { patchConsole } from './console-log.ts';
import { RuntimeError, RuntimeErrors, toErrorDocument } from './errors.ts';
import { loadHandler } from './handler-loader.ts';
import { installLayerResolution } from './layer-resolution.ts';
import { installGlobals } from './response-stream.ts';
import { RuntimeApiClient } from './runtime-api-client.ts';
import { checkHandlerConvention, conventionFor, type LoopState, RuntimeLoop } from './runtime-loop.ts';

const EXIT_UNCAUGHT_EXCEPTION = 129;
const EXIT_UNHANDLED_REJECTION = 128;

/** Runs the runtime client with what `process.env` holds now; returns only if the loop ends. */
export async function main(): Promise<void> {
  const env = process.env;
  const runtimeApi = env.AWS_LAMBDA_RUNTIME_API;
  if (!runtimeApi) {
    process.stderr.write(
      'lambda-testkit bootstrap: AWS_LAMBDA_RUNTIME_API is not set; run me under the emulator or Lambda.\n',
    );
    process.exit(1);
  }
  const client = new RuntimeApiClient(runtimeApi);
  const state: LoopState = { requestId: undefined };
  let initializing = true;

  installGlobals(env);
  installLayerResolution(env.NODE_PATH);
  patchConsole(() => state.requestId, env);

  const fatal = async (error: unknown, exitCode: number): Promise<void> => {
    const doc = toErrorDocument(error);
    const body = JSON.stringify(doc);
    console.error(
      exitCode === EXIT_UNHANDLED_REJECTION ? 'Unhandled Promise Rejection' : 'Uncaught Exception',
      body,
    );
    try {
      if (state.requestId) await client.postError(state.requestId, body, doc.errorType);
      else if (initializing) await client.postInitError(body, doc.errorType);
    } finally {
      process.exit(exitCode);
    }
  };
  process.on('uncaughtException', (error) => void fatal(error, EXIT_UNCAUGHT_EXCEPTION));
  process.on('unhandledRejection', (reason) => {
    const error = new RuntimeError(
      RuntimeErrors.unhandledPromiseRejection,
      reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason),
      { cause: reason, ...(reason instanceof Error && reason.stack ? { stack: reason.stack } : {}) },
    );
    void fatal(error, EXIT_UNHANDLED_REJECTION);
  });

  const handlerString = env._HANDLER;
  const convention = conventionFor(env);
  let loop: RuntimeLoop;
  try {
    if (!handlerString)
      throw new RuntimeError(RuntimeErrors.platform, '_HANDLER environment variable is not set');
    const loaded = await loadHandler(env.LAMBDA_TASK_ROOT ?? process.cwd(), handlerString);
    checkHandlerConvention(loaded, convention);
    loop = new RuntimeLoop(client, loaded, convention, env, state);
  } catch (error) {
    const doc = toErrorDocument(error);
    const body = JSON.stringify(doc);
    console.error('Init Error', body);
    await client.postInitError(body, doc.errorType);
    process.exit(EXIT_UNCAUGHT_EXCEPTION);
  }
  initializing = false;
  await loop.run();
}
