/**
 * The one errors module of @lambda-testkit/core.
 *
 * Every failure the library reports is a `LambdaTestkitError` with a stable `code` (never rename
 * a code: users match on it). Messages say what was expected, what was found, and what to do.
 *
 * `instanceof` is answered by a `Symbol.for` brand instead of the prototype chain, because Jest
 * loads each test file in its own module registry: an error thrown by one copy of this module
 * must still be `instanceof` the class a test file imported from another copy.
 */

const KINDS = Symbol.for('lambda-testkit.error.kinds');

export const ErrorCodes = {
  /** The configuration (plugin options or lambda-testkit.config.*) is malformed. */
  CONFIG_INVALID: 'LTK_CONFIG_INVALID',
  /** A function name that was never declared. */
  UNKNOWN_FUNCTION: 'LTK_UNKNOWN_FUNCTION',
  /** A handler string that cannot name a handler (`file.export`). */
  BAD_HANDLER: 'LTK_BAD_HANDLER',
  /** A runtime identifier the library has no image or bootstrap for. */
  UNSUPPORTED_RUNTIME: 'LTK_UNSUPPORTED_RUNTIME',
  /** The function's code or a layer (directory or zip) does not exist or cannot be read. */
  CODE_NOT_FOUND: 'LTK_CODE_NOT_FOUND',
  /** An invoke payload over the Lambda limit (6 MB sync, 1 MB async). */
  PAYLOAD_TOO_LARGE: 'LTK_PAYLOAD_TOO_LARGE',
  /** No container engine answered where one was required. */
  DOCKER_UNAVAILABLE: 'LTK_DOCKER_UNAVAILABLE',
  /** No Kubernetes cluster answered (kubeconfig, context or namespace) where one was required. */
  KUBERNETES_UNAVAILABLE: 'LTK_KUBERNETES_UNAVAILABLE',
  /** A port the library was asked to listen on is taken. */
  PORT_IN_USE: 'LTK_PORT_IN_USE',
  /** A backend could not start an instance (container or process). */
  LAUNCH_FAILED: 'LTK_LAUNCH_FAILED',
  /** The instance failed after the request may have reached the handler; not retried. */
  INSTANCE_LOST: 'LTK_INSTANCE_LOST',
  /** The instance did not answer within the function timeout plus a margin. */
  INVOKE_TIMEOUT: 'LTK_INVOKE_TIMEOUT',
  /** The pool was stopped (end of run) while the call waited or ran. */
  POOL_STOPPED: 'LTK_POOL_STOPPED',
  /** A `PoolClient` was used after `close()` (or `await using` ended its scope). */
  CLIENT_CLOSED: 'LTK_CLIENT_CLOSED',
  /** A test worker could not reach the pool server. */
  SERVER_UNREACHABLE: 'LTK_SERVER_UNREACHABLE',
  /** A call to the pool server without the run's token, or with a wrong one. */
  UNAUTHORIZED: 'LTK_UNAUTHORIZED',
  /** An image could not be pulled or built. */
  IMAGE_UNAVAILABLE: 'LTK_IMAGE_UNAVAILABLE',
  /** A SAM template or CDK assembly that cannot be read as declared. */
  TEMPLATE_INVALID: 'LTK_TEMPLATE_INVALID',
  /** esbuild could not bundle a TypeScript/JavaScript entry. */
  BUNDLE_FAILED: 'LTK_BUNDLE_FAILED',
  /**
   * A function's synchronous call would wait for an instance that only its own call chain holds
   * (A invokes A beyond `maxConcurrency`): it could never be served.
   */
  CALL_DEADLOCK: 'LTK_CALL_DEADLOCK',
  /** Wiring to services (`network`, `hostPorts`) could not be set up. */
  WIRING_FAILED: 'LTK_WIRING_FAILED',
  /** The pool server answered with something the client does not understand. */
  PROTOCOL_ERROR: 'LTK_PROTOCOL_ERROR',
  /**
   * A call beyond the function's `reservedConcurrency` (Lambda's 429 TooManyRequestsException,
   * reason ReservedFunctionConcurrentInvocationLimitExceeded).
   */
  THROTTLED: 'LTK_THROTTLED',
  /**
   * A function's `loggingConfig` (SAM/CloudFormation `LoggingConfig`) that Lambda would refuse: an
   * unknown format or level, or a log level with the Text format.
   */
  LOGGING_CONFIG_INVALID: 'LTK_LOGGING_CONFIG_INVALID',
  /** A streamed response was left before its end (`break` out of `invokeStream`): no outcome. */
  STREAM_ABANDONED: 'LTK_STREAM_ABANDONED',
  /** `debug` on a function whose backend cannot attach a debugger (Kubernetes). */
  DEBUG_UNSUPPORTED: 'LTK_DEBUG_UNSUPPORTED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface LambdaTestkitErrorOptions {
  /** The underlying error, kept for debugging (`error.cause`). */
  cause?: unknown;
  /** Structured facts about the failure (function name, path, limit, …). Never secrets. */
  details?: Record<string, unknown>;
}

export class LambdaTestkitError extends Error {
  /** The kind tag checked by `instanceof` across module realms; subclasses override it. */
  static readonly kind: string = 'LambdaTestkitError';

  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: LambdaTestkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
    const kinds: string[] = [];
    for (let c: unknown = new.target; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
      const kind = (c as { kind?: unknown }).kind;
      if (typeof kind === 'string' && !kinds.includes(kind)) kinds.push(kind);
    }
    this.name = kinds[0] ?? 'LambdaTestkitError';
    Object.defineProperty(this, KINDS, { value: kinds, enumerable: false });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    const kinds = (value as { [KINDS]?: unknown })[KINDS];
    return Array.isArray(kinds) && kinds.includes(this.kind);
  }

  /** A plain object for transport between processes (pool server → worker). */
  toJSON(): SerializedTestkitError {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** The configuration or a declared function is wrong; fix the config. */
export class ConfigError extends LambdaTestkitError {
  static override readonly kind: string = 'ConfigError';
}

/** A backend (Docker or process) could not provide an instance. */
export class BackendError extends LambdaTestkitError {
  static override readonly kind: string = 'BackendError';
}

/** An invocation failed for a reason outside the handler (transport, timeout, pool stopped). */
export class InvokeError extends LambdaTestkitError {
  static override readonly kind: string = 'InvokeError';
}

export interface SerializedTestkitError {
  name: string;
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
}

const byName: Record<
  string,
  new (
    code: ErrorCode,
    message: string,
    o?: LambdaTestkitErrorOptions,
  ) => LambdaTestkitError
> = { LambdaTestkitError, ConfigError, BackendError, InvokeError };

/** Rebuilds an error sent by `toJSON()` on the other side of a process boundary. */
export function reviveTestkitError(data: SerializedTestkitError): LambdaTestkitError {
  const Ctor = byName[data.name] ?? LambdaTestkitError;
  return new Ctor(data.code, data.message, { details: data.details });
}

export function isTestkitError(value: unknown, code?: ErrorCode): value is LambdaTestkitError {
  return value instanceof LambdaTestkitError && (code === undefined || value.code === code);
}
