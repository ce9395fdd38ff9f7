/**
 * Lambda runtime identifiers as data: official base image, language family, and status.
 * A new identifier is a row here, not a code change elsewhere.
 * Sources: docs/lambda-apis.md#runtime-identifiers (AWS runtime table, late 2026).
 */
import { ConfigError, ErrorCodes } from './errors.ts';

export type RuntimeFamily = 'nodejs' | 'python' | 'java' | 'dotnet' | 'ruby' | 'provided';

export interface RuntimeInfo {
  id: string;
  family: RuntimeFamily;
  /** Official base image, `public.ecr.aws/lambda/<lang>:<version>`. */
  image: string;
  /** Major version of the language, where it matters (Node's layer path `/opt/nodejs/node22`). */
  major?: number;
  /** Set when AWS has deprecated the runtime: creating functions with it is blocked. */
  deprecated?: string;
}

const ECR = 'public.ecr.aws/lambda';

export const RUNTIMES: readonly RuntimeInfo[] = [
  { id: 'nodejs18.x', family: 'nodejs', image: `${ECR}/nodejs:18`, major: 18, deprecated: '2025-09-01' },
  { id: 'nodejs20.x', family: 'nodejs', image: `${ECR}/nodejs:20`, major: 20, deprecated: '2026-04-30' },
  { id: 'nodejs22.x', family: 'nodejs', image: `${ECR}/nodejs:22`, major: 22 },
  { id: 'nodejs24.x', family: 'nodejs', image: `${ECR}/nodejs:24`, major: 24 },
  { id: 'python3.9', family: 'python', image: `${ECR}/python:3.9`, deprecated: '2025-12-15' },
  { id: 'python3.10', family: 'python', image: `${ECR}/python:3.10` },
  { id: 'python3.11', family: 'python', image: `${ECR}/python:3.11` },
  { id: 'python3.12', family: 'python', image: `${ECR}/python:3.12` },
  { id: 'python3.13', family: 'python', image: `${ECR}/python:3.13` },
  { id: 'python3.14', family: 'python', image: `${ECR}/python:3.14` },
  { id: 'java17', family: 'java', image: `${ECR}/java:17` },
  { id: 'java21', family: 'java', image: `${ECR}/java:21` },
  { id: 'java25', family: 'java', image: `${ECR}/java:25` },
  { id: 'dotnet8', family: 'dotnet', image: `${ECR}/dotnet:8` },
  { id: 'dotnet10', family: 'dotnet', image: `${ECR}/dotnet:10` },
  { id: 'ruby3.2', family: 'ruby', image: `${ECR}/ruby:3.2`, deprecated: '2026-03-31' },
  { id: 'ruby3.3', family: 'ruby', image: `${ECR}/ruby:3.3` },
  { id: 'ruby3.4', family: 'ruby', image: `${ECR}/ruby:3.4` },
  { id: 'provided.al2', family: 'provided', image: `${ECR}/provided:al2` },
  { id: 'provided.al2023', family: 'provided', image: `${ECR}/provided:al2023` },
];

/**
 * Runtimes AWS has retired (function updates blocked, no maintained base image), with what to move
 * to. Real templates still name them; they are reported as such instead of as unknown.
 */
export const RETIRED_RUNTIMES: Readonly<Record<string, string>> = {
  'go1.x': 'provided.al2023 (a bootstrap executable built from the Go code)',
  provided: 'provided.al2023',
  'nodejs16.x': 'nodejs22.x',
  'nodejs14.x': 'nodejs22.x',
  'nodejs12.x': 'nodejs22.x',
  'nodejs10.x': 'nodejs22.x',
  'nodejs8.10': 'nodejs22.x',
  'python3.8': 'python3.13',
  'python3.7': 'python3.13',
  'python3.6': 'python3.13',
  'python2.7': 'python3.13',
  java8: 'java21',
  dotnet6: 'dotnet8',
  'dotnetcore3.1': 'dotnet8',
  'ruby2.7': 'ruby3.4',
};

const byId = new Map(RUNTIMES.map((r) => [r.id, r]));

/** The runtime's row, or undefined for an identifier the table does not know. */
export function findRuntime(id: string): RuntimeInfo | undefined {
  return byId.get(id);
}

/** The runtime's row; an unknown identifier fails with the list of known ones. */
export function runtimeInfo(id: string): RuntimeInfo {
  const info = byId.get(id);
  const successor = RETIRED_RUNTIMES[id];
  if (!info && successor) {
    throw new ConfigError(
      ErrorCodes.UNSUPPORTED_RUNTIME,
      `Runtime "${id}" is retired: AWS no longer runs it and has no base image for it. ` +
        `Move the function to ${successor}, or set "image" to a custom image that still runs it.`,
      { details: { runtime: id, successor, reason: `runtime ${id} is retired` } },
    );
  }
  if (!info) {
    throw new ConfigError(
      ErrorCodes.UNSUPPORTED_RUNTIME,
      `Unsupported runtime "${id}". Expected one of: ${RUNTIMES.map((r) => r.id).join(', ')}. ` +
        'Fix the function\'s "runtime", or set "image" to run a custom image.',
      { details: { runtime: id, reason: `runtime ${id} is unknown` } },
    );
  }
  return info;
}

/** A one-line warning for a deprecated runtime, or undefined. */
export function deprecationWarning(info: RuntimeInfo): string | undefined {
  return info.deprecated
    ? `lambda-testkit: runtime ${info.id} was deprecated by AWS on ${info.deprecated}; new functions cannot use it. Consider a newer runtime.`
    : undefined;
}

/**
 * The image that replaces a function's base image, if any: its own `image`, else the run's
 * `images[runtime]` (config `images`, DockerBackend `images`). Undefined means the base image.
 */
export function imageOverride(
  fn: { readonly image?: string; readonly runtime: string },
  images: Readonly<Record<string, string>> | undefined,
): string | undefined {
  return fn.image || images?.[fn.runtime] || undefined;
}
