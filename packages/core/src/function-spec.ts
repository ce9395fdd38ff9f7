/**
 * What a user declares for one function, and the resolved form the pool and backends work with.
 * Resolution (zipping directories, hashing, deploy ids) lives in `resolve-function.ts`.
 */

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
   * A TypeScript or JavaScript entry file, bundled with esbuild as CDK's `NodejsFunction` does.
   * The handler's file part is then the bundle's name (`index`).
   */
  entry?: string;
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
  /** @default 'x86_64' */
  architecture?: Architecture;
  /** Container image to use instead of the official base image for `runtime` (Docker backend). */
  image?: string;
}

/** A declaration with its name. */
export interface FunctionSpec extends FunctionDeclaration {
  name: string;
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
  architecture: Architecture;
  image?: string;
  code: ResolvedArchive;
  layers: ResolvedArchive[];
  /** base64url SHA-256 over code, launch configuration and layers; see `deploy-id.ts`. */
  deployId: string;
}

export const DEFAULT_TIMEOUT_SECONDS = 3;
export const DEFAULT_MEMORY_SIZE_MB = 128;
