/**
 * From a declared function to the resolved form the pool and backends launch: validated settings
 * with their defaults, code and layers as zip bytes with their hashes, and the deploy id.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError, ErrorCodes } from '../errors.ts';
import type { Architecture, FunctionSpec, ResolvedArchive, ResolvedFunction } from '../function-spec.ts';
import { DEFAULT_MEMORY_SIZE_MB, DEFAULT_TIMEOUT_SECONDS } from '../function-spec.ts';
import { checkLoggingConfig } from '../logging-config.ts';
import { runtimeInfo } from '../runtimes.ts';
import { computeDeployId } from './deploy-id.ts';
import { sha256Base64, zipDirectory } from './zip.ts';

export interface ResolveFunctionOptions {
  /** Directory that relative `code` and `layers` paths are resolved against (the config's directory). */
  root: string;
}

/** Lambda's own limits (CreateFunction): timeout 1..900 s, memory 128..10240 MB. */
const TIMEOUT_RANGE = [1, 900] as const;
const MEMORY_RANGE = [128, 10_240] as const;
const EPHEMERAL_STORAGE_RANGE = [512, 10_240] as const;
/** Lambda's default account concurrency is 1000. */
const RESERVED_CONCURRENCY_RANGE = [0, 1000] as const;
/** A wait for a busy instance longer than Lambda's longest timeout (15 min) means nothing. */
const SCALE_OUT_WAIT_RANGE = [0, 900_000] as const;
const ARCHITECTURES: readonly Architecture[] = ['x86_64', 'arm64'];
/** Lambda's rule for environment variable names (CreateFunction `Environment.Variables`). */
const ENV_NAME = /^[a-zA-Z]\w*$/;

function fail(code: (typeof ErrorCodes)[keyof typeof ErrorCodes], fn: string, message: string, details = {}) {
  return new ConfigError(code, `Function "${fn}": ${message}`, { details: { function: fn, ...details } });
}

/**
 * Checks the handler's shape for the runtime family. Node, Python and Ruby name `file.export`
 * (Node: `path/to/file.export`, Python: `pkg.module.function`), so they need a dot with something
 * on both sides of it in the last path segment. Java (`pkg.Class::method`), .NET
 * (`Assembly::Type::Method`) and custom runtimes (`provided.*`: often just `bootstrap`) accept any
 * non-blank string.
 */
function checkHandler(spec: FunctionSpec, family: string): void {
  const { handler, name } = spec;
  const fix = 'Use the form "path/file.function", for example "index.handler" or "src/orders.main".';
  if (typeof handler !== 'string' || handler.trim() === '') {
    throw fail(ErrorCodes.BAD_HANDLER, name, `"handler" is missing. ${fix}`, { handler });
  }
  if (/\s/.test(handler) || handler.length > 128) {
    throw fail(
      ErrorCodes.BAD_HANDLER,
      name,
      `handler "${handler}" must be at most 128 characters without spaces. ${fix}`,
      { handler },
    );
  }
  if (family === 'nodejs' || family === 'python' || family === 'ruby') {
    const last = handler.slice(handler.lastIndexOf('/') + 1);
    const dot = last.indexOf('.');
    if (dot <= 0 || dot === last.length - 1 || last.endsWith('.')) {
      throw fail(
        ErrorCodes.BAD_HANDLER,
        name,
        `handler "${handler}" does not name a file and a function. ${fix}`,
        { handler },
      );
    }
  }
}

function checkRange(fn: string, field: string, value: number, [min, max]: readonly [number, number]): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw fail(
      ErrorCodes.CONFIG_INVALID,
      fn,
      `"${field}" must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}.`,
      { [field]: value },
    );
  }
}

/** Alias names as Lambda allows them (not a version number), each naming a published version. */
function checkFunctionAliases(fn: string, aliases: unknown): Record<string, string> {
  const valid =
    typeof aliases === 'object' &&
    aliases !== null &&
    !Array.isArray(aliases) &&
    Object.entries(aliases).every(
      ([alias, version]) =>
        /^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$/.test(alias) &&
        typeof version === 'string' &&
        /^[1-9][0-9]*$/.test(version),
    );
  if (!valid) {
    throw fail(
      ErrorCodes.CONFIG_INVALID,
      fn,
      `"functionAliases" must map alias names (letters, digits, - and _, not only digits) to published ` +
        `version numbers as strings, for example { live: '3' }; got ${JSON.stringify(aliases)}.`,
    );
  }
  return { ...(aliases as Record<string, string>) };
}

function checkEnvironment(fn: string, environment: unknown): Record<string, string> {
  if (environment === undefined) return {};
  if (typeof environment !== 'object' || environment === null || Array.isArray(environment)) {
    throw fail(ErrorCodes.CONFIG_INVALID, fn, '"environment" must be an object of string values.');
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(environment)) {
    if (!ENV_NAME.test(key)) {
      throw fail(
        ErrorCodes.CONFIG_INVALID,
        fn,
        `environment variable name "${key}" is not valid: Lambda expects a letter followed by letters, digits or "_".`,
        { variable: key },
      );
    }
    if (typeof value !== 'string') {
      throw fail(
        ErrorCodes.CONFIG_INVALID,
        fn,
        `environment variable "${key}" must be a string, got ${typeof value}. Quote it, e.g. "${String(value)}".`,
        { variable: key },
      );
    }
    out[key] = value;
  }
  return out;
}

/** `debug: true | { wait }` as the backends take it; undefined when off. Node.js runtimes only. */
function checkDebug(fn: string, debug: unknown, family: string): { wait: boolean } | undefined {
  if (debug === undefined || debug === false) return undefined;
  const wait =
    debug === true
      ? false
      : typeof debug === 'object' && debug !== null && !Array.isArray(debug)
        ? (debug as { wait?: unknown }).wait
        : null;
  if (wait !== undefined && typeof wait !== 'boolean') {
    throw fail(
      ErrorCodes.CONFIG_INVALID,
      fn,
      `"debug" must be true, false or { wait: boolean }, got ${JSON.stringify(debug)}.`,
      { debug },
    );
  }
  if (family !== 'nodejs') {
    throw fail(
      ErrorCodes.CONFIG_INVALID,
      fn,
      '"debug" starts the Node.js inspector, so it works for Node.js runtimes only. Remove "debug" from this function.',
      { debug },
    );
  }
  return { wait: wait ?? false };
}

/** Reads a directory (zipped deterministically) or a `.zip` file (taken as it is). */
async function readArchive(fn: string, what: string, path: string, root: string): Promise<ResolvedArchive> {
  const source = resolve(root, path);
  const stats = await stat(source).catch(() => undefined);
  if (!stats) {
    throw fail(
      ErrorCodes.CODE_NOT_FOUND,
      fn,
      `${what} "${path}" not found at ${source}. Check the path (relative paths start at ${root}).`,
      { path: source },
    );
  }
  let zip: Buffer;
  if (stats.isDirectory()) {
    zip = await zipDirectory(source);
  } else if (stats.isFile() && source.toLowerCase().endsWith('.zip')) {
    zip = await readFile(source);
  } else {
    throw fail(
      ErrorCodes.CODE_NOT_FOUND,
      fn,
      `${what} ${source} is neither a directory nor a .zip file. Point it at a directory or a zip.`,
      { path: source },
    );
  }
  return { source, zip, sha256: sha256Base64(zip) };
}

/**
 * Validates a declared function, applies the defaults (timeout 3 s, 128 MB, x86_64), packages code
 * and layers, and computes the deploy id. Two resolutions of the same inputs are equal.
 */
export async function resolveFunction(
  spec: FunctionSpec,
  options: ResolveFunctionOptions,
): Promise<ResolvedFunction> {
  const name = spec.name;
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, 'A function has no name. Give every function a name.');
  }
  const runtime = runtimeInfo(spec.runtime);
  checkHandler(spec, runtime.family);
  const timeout = spec.timeout ?? DEFAULT_TIMEOUT_SECONDS;
  checkRange(name, 'timeout', timeout, TIMEOUT_RANGE);
  const memorySize = spec.memorySize ?? DEFAULT_MEMORY_SIZE_MB;
  checkRange(name, 'memorySize', memorySize, MEMORY_RANGE);
  if (spec.ephemeralStorage !== undefined) {
    checkRange(name, 'ephemeralStorage', spec.ephemeralStorage, EPHEMERAL_STORAGE_RANGE);
  }
  const architecture = spec.architecture ?? 'x86_64';
  if (!ARCHITECTURES.includes(architecture)) {
    throw fail(
      ErrorCodes.CONFIG_INVALID,
      name,
      `"architecture" must be one of ${ARCHITECTURES.join(', ')}, got ${JSON.stringify(architecture)}.`,
    );
  }
  if (spec.image !== undefined && (typeof spec.image !== 'string' || spec.image === '')) {
    throw fail(ErrorCodes.CONFIG_INVALID, name, '"image" must be a non-empty image reference when set.');
  }
  const environment = checkEnvironment(name, spec.environment);
  if (spec.reservedConcurrency !== undefined) {
    checkRange(name, 'reservedConcurrency', spec.reservedConcurrency, RESERVED_CONCURRENCY_RANGE);
  }
  if (spec.code === undefined) {
    throw fail(
      ErrorCodes.CONFIG_INVALID,
      name,
      spec.entry === undefined
        ? 'neither "code" nor "entry" is set. Set "code" to a directory or .zip, or "entry" to a source file.'
        : `"entry" (${spec.entry}) must be bundled before it is resolved; resolveFunction takes "code" only. ` +
            'Load functions through the config loader, which bundles entries first.',
    );
  }
  // A bundled entry arrives with `code` set to the bundle directory; `entry` is then informational.
  const code = await readArchive(name, 'code', spec.code, options.root);
  if (spec.layers !== undefined && !Array.isArray(spec.layers)) {
    throw fail(
      ErrorCodes.CONFIG_INVALID,
      name,
      '"layers" must be a list of directories or .zip files, in attach order.',
    );
  }
  const layers: ResolvedArchive[] = [];
  for (const layer of spec.layers ?? []) layers.push(await readArchive(name, 'layer', layer, options.root));

  const loggingConfig = checkLoggingConfig(name, spec.loggingConfig);
  const launch = {
    runtime: spec.runtime,
    handler: spec.handler,
    timeout,
    memorySize,
    ephemeralStorage: spec.ephemeralStorage,
    environment,
    architecture,
    image: spec.image,
    loggingConfig,
  };
  const deployId = computeDeployId({ codeSha256: code.sha256, launch, layers: layers.map((l) => l.sha256) });
  const resolved: ResolvedFunction = { name, ...launch, code, layers, deployId };
  if (spec.image === undefined) delete resolved.image;
  if (loggingConfig === undefined) delete resolved.loggingConfig;
  if (spec.ephemeralStorage === undefined) delete resolved.ephemeralStorage;
  if (spec.reservedConcurrency !== undefined) resolved.reservedConcurrency = spec.reservedConcurrency;
  if (spec.scaleOutWaitMs !== undefined) {
    checkRange(name, 'scaleOutWaitMs', spec.scaleOutWaitMs, SCALE_OUT_WAIT_RANGE);
    resolved.scaleOutWaitMs = spec.scaleOutWaitMs;
  }
  if (spec.maximumRetryAttempts !== undefined) {
    checkRange(name, 'maximumRetryAttempts', spec.maximumRetryAttempts, [0, 2]);
    resolved.maximumRetryAttempts = spec.maximumRetryAttempts;
  }
  if (spec.functionAliases !== undefined) {
    resolved.functionAliases = checkFunctionAliases(name, spec.functionAliases);
  }
  const debug = checkDebug(name, spec.debug, runtime.family);
  if (debug) resolved.debug = debug;
  return resolved;
}
