/**
 * The environment a function's sandbox starts with (docs/lambda-apis.md#emulator-environment-variables,
 * docs/lambda-apis.md#sandbox-environment), shared by every backend so that Docker and process instances
 * see the same variables.
 *
 * These are the variables given to the *sandbox* (the container, or the emulator process); the
 * emulator (or RIE) adds `AWS_LAMBDA_RUNTIME_API` and `_HANDLER` for the runtime it spawns.
 */
import { randomBytes } from 'node:crypto';
import type { LaunchContext } from './backend.ts';
import type { ResolvedFunction } from './function-spec.ts';
import { loggingEnvironment } from './logging-config.ts';

/** Read by lambda-testkit's emulator to build a realistic ARN (RIE hard-codes its account). */
export const ACCOUNT_ID_VARIABLE = 'LAMBDA_TESTKIT_ACCOUNT_ID';

/**
 * Dummy credentials: SDK clients inside the handler construct without error, and no real
 * credentials of the developer leak into the sandbox. Users who want real ones set them in
 * the function's environment.
 */
const DUMMY_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIALAMBDATESTKIT000',
  AWS_SECRET_ACCESS_KEY: 'lambda-testkit-dummy-secret-access-key',
  AWS_SESSION_TOKEN: 'lambda-testkit-dummy-session-token',
};

function logStreamName(now: Date): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

export function sandboxEnvironment(
  fn: ResolvedFunction,
  context: Pick<LaunchContext, 'region' | 'accountId' | 'environment'>,
  now: Date = new Date(),
): Record<string, string> {
  return {
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    // RIE-only: the invoke timeout in whole seconds (docs/lambda-apis.md#emulator-environment-variables).
    // While a debugger is attached lambda-testkit's emulator holds it; a debugged sandbox without
    // that emulator gets it lifted by its backend (debug.ts).
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(Math.max(1, Math.ceil(fn.timeout))),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName(now),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_REGION: context.region,
    AWS_DEFAULT_REGION: context.region,
    [ACCOUNT_ID_VARIABLE]: context.accountId,
    ...DUMMY_CREDENTIALS,
    // Lambda's advanced logging controls (docs/lambda-apis.md#logging-configuration).
    ...loggingEnvironment(fn.loggingConfig),
    // This instance's own variables (its credentials for the pool server, docs/wiring.md).
    ...context.environment,
    // The user's variables last: they may replace credentials and region, as in a real function.
    ...fn.environment,
    // A frozen runtime (SIGSTOP between invocations, docs/emulator.md#freeze) stops its inspector
    // too, so a debugger could not talk to it between calls: no freeze while debugged.
    ...(fn.debug ? { LAMBDA_TESTKIT_FREEZE: 'false' } : {}),
  };
}
