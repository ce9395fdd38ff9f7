/**
 * The `context` object of a Node handler (docs/lambda-apis.md#node-runtime-client), built from the
 * `/next` headers and the function variables. On nodejs22.x and older it also carries the callback-era
 * members (`callbackWaitsForEmptyEventLoop`, `succeed`, `fail`, `done`), which nodejs24.x removed.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { RuntimeError, RuntimeErrors } from './errors.ts';

export interface InvokeContext {
  awsRequestId: string;
  invokedFunctionArn: string;
  functionName: string;
  functionVersion: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  clientContext?: unknown;
  identity?: unknown;
  tenantId?: string;
  xRayTraceId: string;
  getRemainingTimeInMillis(): number;
  callbackWaitsForEmptyEventLoop?: boolean;
  succeed?(result?: unknown): void;
  fail?(error?: unknown): void;
  done?(error?: unknown, result?: unknown): void;
}

export type Callback = (error?: unknown, result?: unknown) => void;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Header bytes arrive as latin1 text; the JSON inside is UTF-8 (the emulator forwards raw bytes). */
function jsonHeader(headers: IncomingHttpHeaders, name: string): unknown {
  const raw = header(headers, name);
  if (!raw) return undefined;
  const text = Buffer.from(raw, 'latin1').toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RuntimeError(
      RuntimeErrors.platform,
      `Failed to parse ${name} as JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export function requestIdOf(headers: IncomingHttpHeaders): string | undefined {
  return header(headers, 'lambda-runtime-aws-request-id');
}

export function buildContext(
  headers: IncomingHttpHeaders,
  env: NodeJS.ProcessEnv,
  legacy: { callback: Callback } | undefined,
): InvokeContext {
  const awsRequestId = requestIdOf(headers);
  const arn = header(headers, 'lambda-runtime-invoked-function-arn');
  const deadline = Number.parseInt(header(headers, 'lambda-runtime-deadline-ms') ?? '', 10);
  if (!awsRequestId || !arn) {
    throw new RuntimeError(
      RuntimeErrors.platform,
      'Missing required headers: lambda-runtime-aws-request-id, lambda-runtime-invoked-function-arn',
    );
  }
  if (Number.isNaN(deadline)) throw new RuntimeError(RuntimeErrors.platform, 'Invalid deadline timestamp');
  const traceId = header(headers, 'lambda-runtime-trace-id');
  const tenantId = header(headers, 'lambda-runtime-aws-tenant-id');
  const context: InvokeContext = {
    awsRequestId,
    invokedFunctionArn: arn,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '',
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '',
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    clientContext: jsonHeader(headers, 'lambda-runtime-client-context'),
    identity: jsonHeader(headers, 'lambda-runtime-cognito-identity'),
    ...(tenantId ? { tenantId } : {}),
    // aws-lambda-ric@4 gives '' without a trace header (the conformance suite checks it).
    xRayTraceId: traceId ?? '',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  // The runtime copies the trace header into the environment for the X-Ray SDK
  // (docs/lambda-apis.md#sandbox-environment, `_X_AMZN_TRACE_ID`).
  if (traceId) env._X_AMZN_TRACE_ID = traceId;
  else delete env._X_AMZN_TRACE_ID;
  if (legacy) {
    const { callback } = legacy;
    context.callbackWaitsForEmptyEventLoop = true;
    context.succeed = (result) => callback(null, result);
    context.fail = (error) => callback(error ?? 'handled');
    context.done = (error, result) => callback(error, result);
  }
  return context;
}
