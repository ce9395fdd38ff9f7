/**
 * What a user declares for one function, and the resolved form the pool and backends work with.
 * Resolution (zipping directories, hashing, deploy ids) lives in `packaging/`.
 */

import type { LoggingConfig, ResolvedLoggingConfig } from './logging-config.ts';

export type Architecture = 'x86_64' | 'arm64';

/** One function as declared in the configuration, keyed by its name. */
export interface FunctionDeclaration {
  /** Lambda runtime identifier, for example `nodejs22.x` or `python3.13`. */
  runtime: string;
  /** Handler string as Lambda takes it, for example `index.handler` or `src/orders.main`. */
  handler: string;
  /**
   * The deployment package: a directory (zipped deterministically) or a `.zip` file.
   * Relative paths are resolved against the config's root directory.
   * Exactly one of `code` and `entry` is given.
   */
  code?: string;
  /**
   * A TypeScript or JavaScript entry file, bundled with esbuild as CDK's `NodejsFunction` does
   * (Node runtimes only): target from the runtime (`nodejs22.x` → `node22`), platform node,
   * `@aws-sdk/*` left external, source maps on and `NODE_OPTIONS=--enable-source-maps` added to
   * the environment so stack traces name the `.ts` lines. The handler's file part is replaced by
   * the bundle's name (`index`): `handler: 'src/orders.main'` runs `index.main` of the bundle.
   * Bundles are cached by input hash under `<root>/node_modules/.cache/lambda-testkit/bundles/`.
   * Tune the build with `bundle`.
   */
  entry?: string;
  /** esbuild options for `entry` (ignored with `code`). */
  bundle?: BundleOptions;
  /** Layers (directories or zips) in attach order; later layers overwrite earlier files in `/opt`. */
  layers?: string[];
  /** Environment variables the handler sees. */
  environment?: Record<string, string>;
  /**
   * Seconds before the invocation is stopped.
   * @default 3
   */
  timeout?: number;
  /**
   * Memory in MB (reported to the handler; not enforced by the process backend).
   * @default 128
   */
  memorySize?: number;
  /**
   * Size of `/tmp` in MB, 512 to 10240, as Lambda's ephemeral storage (SAM/CloudFormation
   * `EphemeralStorage.Size`). The Docker backend mounts a tmpfs of this size; the process backend
   * does not bound it.
   * @default 512
   */
  ephemeralStorage?: number;
  /** @default 'x86_64' */
  architecture?: Architecture;
  /** Container image to use instead of the official base image for `runtime` (Docker backend). */
  image?: string;
  /**
   * Opt-in throttling, as Lambda's reserved concurrency (SAM/CloudFormation
   * `ReservedConcurrentExecutions`): at most this many calls of the function run at once, and a
   * RequestResponse call beyond it is refused with 429 `TooManyRequestsException` (testkit code
   * `LTK_THROTTLED`) instead of waiting. 0 throttles every call. Event calls wait their turn (Lambda
   * queues throttled events and retries them). Without it, calls over `maxConcurrency` wait FIFO.
   * @default undefined (no throttling)
   */
  reservedConcurrency?: number;
  /**
   * Less eager scale-out for this function: a call that finds every instance busy waits up to this
   * many ms for one to free up before another instance is started (still at most `maxConcurrency`).
   * Overrides the configuration's `scaleOutWaitMs`. 0 starts one at once, as Lambda does.
   * @default the configuration's `scaleOutWaitMs` (0)
   */
  scaleOutWaitMs?: number;
  /**
   * Lambda aliases of the function: alias name → the version it points to, e.g. `{ live: '3' }`
   * (not read from SAM's `AutoPublishAlias` yet: declare it here or in `sam.overrides`). Invoking `name:live` runs the current
   * code, reports `X-Amz-Executed-Version: 3` and gives the handler `…:function:name:live` as
   * `invokedFunctionArn`; `name:3` works too. Any other qualifier than these and `$LATEST` is
   * `ResourceNotFoundException`, as on Lambda.
   * @default {} (only `$LATEST`)
   */
  functionAliases?: Record<string, string>;
  /**
   * How often a failed Event (asynchronous) call is retried, 0 to 2, as Lambda's
   * `MaximumRetryAttempts` (SAM `EventInvokeConfig.MaximumRetryAttempts`, set it here). Retries keep the
   * request id and wait `eventRetryDelaysMs` of the configuration.
   * @default 2
   */
  maximumRetryAttempts?: number;
  /**
   * Lambda's logging configuration (SAM/CloudFormation `LoggingConfig`, read from templates too):
   * `{ logFormat: 'JSON', applicationLogLevel: 'WARN', systemLogLevel: 'INFO' }`. With JSON the
   * runtime prints console output as JSON objects and drops levels below `applicationLogLevel`, and
   * the platform's lines become JSON records filtered by `systemLogLevel`
   * (docs/lambda-apis.md#logging-configuration). `logGroup` is accepted and ignored.
   * @default undefined (Lambda's default: Text, no filtering)
   */
  loggingConfig?: LoggingConfig;
  /**
   * Start the function's Node runtime with the inspector so a debugger (VS Code, Chrome DevTools)
   * can attach: `true`, or `{ wait: true }` to hold the runtime until a debugger attaches. Each
   * instance gets its own port on 127.0.0.1 and prints one line with its address. The function
   * timeout is held while a debugger is attached (so a handler paused at a breakpoint is not
   * killed) and counts on once it detaches; the pool's and workers' invoke deadlines are lifted
   * while debug is on (`DEBUG_TIMEOUT_SECONDS`). Process and Docker backends; Kubernetes refuses it
   * (`LTK_DEBUG_UNSUPPORTED`). `LAMBDA_TESTKIT_DEBUG=<name>[,<name>]` turns it on without editing
   * the config. Node.js runtimes only.
   * @default false
   */
  debug?: boolean | DebugOptions;
}

/** How a debugged function's runtime starts (see `FunctionDeclaration.debug`). */
export interface DebugOptions {
  /**
   * Hold the runtime before it loads the handler until a debugger attaches (Node's `--inspect-wait`),
   * so breakpoints in the handler's module scope are hit too. `LAMBDA_TESTKIT_DEBUG_WAIT=1` sets it
   * for every debugged function.
   * @default false
   */
  wait?: boolean;
}

/** How an `entry` is bundled; the defaults follow CDK's `NodejsFunction`. */
/** The esbuild loaders a `bundle.loader` (or SAM's `Loader` build property) may name. */
export const BUNDLE_LOADERS = [
  'base64',
  'binary',
  'copy',
  'dataurl',
  'empty',
  'file',
  'js',
  'json',
  'jsx',
  'text',
  'ts',
  'tsx',
] as const;

export type BundleLoader = (typeof BUNDLE_LOADERS)[number];

export interface BundleOptions {
  /**
   * Output module format: `cjs` writes `index.js`; `esm` writes `index.mjs` with a `createRequire`
   * banner so bundled CommonJS dependencies can still `require` Node built-ins.
   * @default 'cjs'
   */
  format?: 'cjs' | 'esm';
  /** @default false */
  minify?: boolean;
  /**
   * Write a source map next to the bundle and add `--enable-source-maps` to `NODE_OPTIONS`.
   * @default true
   */
  sourcemap?: boolean;
  /** Global identifier replacements, as esbuild's `define` (values are JS expressions). */
  define?: Record<string, string>;
  /** esbuild loaders by file extension, for example `{ '.png': 'dataurl' }`. */
  loader?: Record<string, BundleLoader>;
  /**
   * Module names left out of the bundle, in addition to `@aws-sdk/*` (see `bundleAwsSdk`).
   * @default []
   */
  external?: string[];
  /**
   * Bundle the AWS SDK v3 instead of leaving `@aws-sdk/*` to the runtime. The official base images
   * provide the SDK; the process backend and a locally built image may not, so set this when a
   * handler that imports `@aws-sdk/*` fails there with "Cannot find module". (CDK: `bundleAwsSDK`.)
   * @default false
   */
  bundleAwsSdk?: boolean;
  /** esbuild target, for example `es2022`. @default `node<major>` of the runtime */
  target?: string;
}

/** A declaration with its name. */
export interface FunctionSpec extends FunctionDeclaration {
  name: string;
  /**
   * Other names this function answers to (a SAM `FunctionName`, a CDK construct path or logical
   * id). `functionNameIndex()` in `sources/` maps every name and alias to its spec.
   */
  aliases?: string[];
}

export interface ResolvedArchive {
  /** Where the bytes came from (absolute path of the directory or zip). */
  source: string;
  /** The zip bytes (deterministic for a directory: sorted entries, fixed timestamps). */
  zip: Buffer;
  /** Base64 SHA-256 of `zip`, as AWS reports `CodeSha256`. */
  sha256: string;
}

/** Everything needed to launch an instance; two resolutions of the same inputs are equal. */
export interface ResolvedFunction {
  name: string;
  runtime: string;
  handler: string;
  environment: Record<string, string>;
  timeout: number;
  memorySize: number;
  /** `/tmp` in MB when declared (`FunctionDeclaration.ephemeralStorage`); 512 otherwise. */
  ephemeralStorage?: number;
  architecture: Architecture;
  image?: string;
  /** See `FunctionDeclaration.reservedConcurrency`; not part of the deploy id (no relaunch). */
  reservedConcurrency?: number;
  /** See `FunctionDeclaration.scaleOutWaitMs`; not part of the deploy id. */
  scaleOutWaitMs?: number;
  /** See `FunctionDeclaration.functionAliases`; not part of the deploy id. */
  functionAliases?: Record<string, string>;
  /** See `FunctionDeclaration.maximumRetryAttempts`. */
  maximumRetryAttempts?: number;
  /** See `FunctionDeclaration.loggingConfig`; with its defaults applied. Part of the deploy id. */
  loggingConfig?: ResolvedLoggingConfig;
  /**
  /** Set when the runtime starts with the inspector (`FunctionDeclaration.debug`); not part of the deploy id. */
  debug?: { wait: boolean };
  code: ResolvedArchive;
  layers: ResolvedArchive[];
  /** base64url SHA-256 over code, launch configuration and layers; see `packaging/deploy-id.ts`. */
  deployId: string;
}

export const DEFAULT_TIMEOUT_SECONDS = 3;
export const DEFAULT_MEMORY_SIZE_MB = 128;
