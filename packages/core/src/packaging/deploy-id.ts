/**
 * The deploy id: what decides whether a warm instance may serve a call. A change to the code, to
 * any launch setting or to the layers (their bytes or their order) gives a new id, which retires
 * the instances of the old one; nothing else does (docs/architecture.md#one-run-end-to-end).
 */
import { createHash } from 'node:crypto';
import type { Architecture } from '../function-spec.ts';
import type { ResolvedLoggingConfig } from '../logging-config.ts';

/** The settings an instance is launched with; all of them are part of the deploy id. */
export interface LaunchConfiguration {
  runtime: string;
  handler: string;
  timeout: number;
  memorySize: number;
  ephemeralStorage?: number | undefined;
  environment: Record<string, string>;
  architecture: Architecture;
  image?: string | undefined;
  /** Left out of the hash when unset, so ids of functions without it are unchanged. */
  loggingConfig?: ResolvedLoggingConfig | undefined;
}

export interface DeployIdInput {
  /** Base64 SHA-256 of the code zip (`codeSha256`). */
  codeSha256: string;
  launch: LaunchConfiguration;
  /** The layers' zip bytes or their base64 SHA-256, in attach order. */
  layers: readonly (Uint8Array | string)[];
}

/**
 * JSON with the keys of every object sorted (code-unit order) and `undefined` members left out, so
 * two equal configurations serialise identically whatever order their keys were written in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    // JSON.stringify(undefined) is undefined; only reachable for a top-level undefined.
    return text ?? 'null';
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

function layerDigest(layer: Uint8Array | string): string {
  return typeof layer === 'string' ? layer : createHash('sha256').update(layer).digest('base64');
}

/**
 * SHA-256 over `codeSha256`, the canonical JSON of the launch configuration, and per layer in attach
 * order `:` + the layer's SHA-256; base64url without padding, so it is safe in paths, container
 * labels and file names (never `/`, `+` or `=`). The canonical JSON always ends with `}`, and each
 * layer digest has a fixed length, so the concatenation is unambiguous.
 */
export function computeDeployId(input: DeployIdInput): string {
  const launch: LaunchConfiguration = {
    runtime: input.launch.runtime,
    handler: input.launch.handler,
    timeout: input.launch.timeout,
    memorySize: input.launch.memorySize,
    // Left out when not declared (canonical JSON drops undefined): deploy ids of before stay the same.
    ephemeralStorage: input.launch.ephemeralStorage,
    environment: input.launch.environment,
    architecture: input.launch.architecture,
    image: input.launch.image,
    loggingConfig: input.launch.loggingConfig,
  };
  const hash = createHash('sha256').update(input.codeSha256).update(canonicalJson(launch));
  for (const layer of input.layers) hash.update(`:${layerDigest(layer)}`);
  return hash.digest('base64url');
}
