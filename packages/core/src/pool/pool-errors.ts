/**
 * The errors the warm pool rejects calls with, each naming the problem and the fix. Builders only:
 * what happens to an instance (terminate, retry) is the pool's decision, not theirs.
 */
import { BackendError, ConfigError, ErrorCodes, InvokeError } from '../errors.ts';
import type { ResolvedFunction } from '../function-spec.ts';
import type { InvokeAttempt } from './invoke-client.ts';

export function unknownFunction(name: string, known: readonly string[]): ConfigError {
  return new ConfigError(
    ErrorCodes.UNKNOWN_FUNCTION,
    `No function named "${name}" is declared. ` +
      (known.length > 0 ? `Known functions: ${known.join(', ')}. ` : 'No functions are declared. ') +
      'Fix the name or declare the function in the lambda-testkit configuration.',
    { details: { function: name, known: [...known] } },
  );
}

/** A call over the function's reserved concurrency, refused as Lambda refuses it. */
export function throttled(name: string, reserved: number): InvokeError {
  return new InvokeError(
    ErrorCodes.THROTTLED,
    `Rate Exceeded: "${name}" has reservedConcurrency ${reserved} and ` +
      (reserved === 0 ? 'so refuses every call. ' : `${reserved} call(s) are already running. `) +
      'Lambda answers 429 TooManyRequestsException (ReservedFunctionConcurrentInvocationLimitExceeded) here; ' +
      'raise or remove reservedConcurrency if the test did not mean to be throttled.',
    {
      details: {
        function: name,
        reservedConcurrency: reserved,
        reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      },
    },
  );
}

export function poolStopped(name: string): InvokeError {
  return new InvokeError(
    ErrorCodes.POOL_STOPPED,
    `The warm pool was stopped while a call to "${name}" waited or ran. ` +
      'Invoke functions only while the test run is active (not after global teardown).',
    { details: { function: name } },
  );
}

/**
 * A synchronous call from a function's own call chain (`chain`, caller first) that could only be
 * served once a call of that chain ends: it would wait forever (docs/wiring.md).
 */
export function callDeadlock(
  name: string,
  chain: readonly string[],
  maxConcurrency: number,
  callerInstanceId: string,
): InvokeError {
  return new InvokeError(
    ErrorCodes.CALL_DEADLOCK,
    `A synchronous call to "${name}" from its own call chain (${chain.join(' → ')}) would wait forever: all ` +
      `${maxConcurrency} instance(s) of "${name}" that maxConcurrency allows are held by calls waiting for ` +
      'this one. Raise maxConcurrency, invoke with InvocationType "Event" (no waiting), or end the recursion sooner.',
    { details: { function: name, chain: [...chain], maxConcurrency, callerInstanceId } },
  );
}

/**
 * A launch that failed. A backend's own testkit error (DOCKER_UNAVAILABLE, IMAGE_UNAVAILABLE, a bad
 * image setting) already names the problem and the fix and is kept; anything else is wrapped with
 * the function's name.
 */
export function launchFailed(
  functionName: string,
  backendName: string,
  cause: unknown,
): BackendError | ConfigError {
  if (cause instanceof BackendError || cause instanceof ConfigError) return cause;
  return new BackendError(
    ErrorCodes.LAUNCH_FAILED,
    `Could not launch an instance of "${functionName}" with the ${backendName} backend: ` +
      `${cause instanceof Error ? cause.message : String(cause)}. See the cause for details.`,
    { cause, details: { function: functionName, backend: backendName } },
  );
}

/** A call whose instance failed on the wire: INVOKE_TIMEOUT or INSTANCE_LOST. */
export function transportError(
  fn: ResolvedFunction,
  instanceId: string,
  attempt: Extract<InvokeAttempt, { ok: false }>,
  options: { retried: boolean; marginMs: number },
): InvokeError {
  const details = {
    function: fn.name,
    instanceId,
    requestWritten: attempt.requestWritten,
    retried: options.retried,
  };
  if (attempt.timedOut) {
    return new InvokeError(
      ErrorCodes.INVOKE_TIMEOUT,
      `"${fn.name}" did not answer within its timeout (${fn.timeout} s) plus ${options.marginMs} ms on instance ` +
        `${instanceId}; the instance was replaced. Raise the function's "timeout" if the handler needs longer.`,
      { cause: attempt.cause, details },
    );
  }
  if (!attempt.requestWritten) {
    return new InvokeError(
      ErrorCodes.INSTANCE_LOST,
      `"${fn.name}": a fresh instance (${instanceId}) also refused the connection after a retry ` +
        `(${attempt.cause.message}). The backend launches instances that do not answer; check its logs.`,
      { cause: attempt.cause, details },
    );
  }
  return new InvokeError(
    ErrorCodes.INSTANCE_LOST,
    `Instance ${instanceId} of "${fn.name}" failed after the request was sent (${attempt.cause.message}). ` +
      'The call may have reached the handler, so it was not retried; the next call gets a fresh instance.',
    { cause: attempt.cause, details },
  );
}

/**
 * An answer that is no invocation result. RIE answers 400/500/504 only on its own faults (a
 * malformed X-Amz-Client-Context gives 500).
 */
export function protocolError(functionName: string, instanceId: string, statusCode: number): InvokeError {
  return new InvokeError(
    ErrorCodes.PROTOCOL_ERROR,
    `Instance ${instanceId} of "${functionName}" answered HTTP ${statusCode}, which is not an invocation ` +
      'result. RIE does this for a malformed X-Amz-Client-Context (it must be base64 JSON); check the call.',
    { details: { function: functionName, instanceId, statusCode } },
  );
}
