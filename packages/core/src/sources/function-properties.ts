/**
 * What SAM and CDK functions share: the properties of a Lambda function resource (`Handler`,
 * `Runtime`, `Environment`, `Timeout`, `MemorySize`, `Architectures`, `LoggingConfig`), resolved one by one so an
 * unresolvable reference drops only that value, and collected into ONE warning per function that
 * names each property and the override that would supply it.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigError, ErrorCodes } from '../errors.ts';
import type { Architecture, FunctionDeclaration, FunctionSpec } from '../function-spec.ts';
import type { LoggingConfig } from '../logging-config.ts';
import { runtimeInfo } from '../runtimes.ts';
import { cacheDirectory } from './bundle-entry.ts';
import { type IntrinsicResolver, NO_VALUE, UnresolvedReference } from './intrinsics.ts';
import type { FunctionOverride } from './source-options.ts';

/** Property path in the template → the declaration key an override sets instead. */
function overrideKeyOf(path: string): keyof FunctionDeclaration | undefined {
  const head = path.split(/[.[]/)[0];
  const keys: Record<string, keyof FunctionDeclaration> = {
    Handler: 'handler',
    Runtime: 'runtime',
    Environment: 'environment',
    Timeout: 'timeout',
    MemorySize: 'memorySize',
    EphemeralStorage: 'ephemeralStorage',
    Architectures: 'architecture',
    ReservedConcurrentExecutions: 'reservedConcurrency',
    LoggingConfig: 'loggingConfig',
    Layers: 'layers',
    CodeUri: 'code',
    Code: 'code',
    InlineCode: 'code',
  };
  return head === undefined ? undefined : keys[head];
}

/** Resolves one function's properties and remembers what could not be resolved. */
export class FunctionProperties {
  readonly #resolver: IntrinsicResolver;
  readonly #override: FunctionOverride;
  readonly #unresolved: string[] = [];
  /** How warnings and errors name the function, e.g. `SAM function "Orders" (template.yaml)`. */
  readonly label: string;

  constructor(resolver: IntrinsicResolver, label: string, override: FunctionOverride | undefined) {
    this.#resolver = resolver;
    this.label = label;
    this.#override = override ?? {};
  }

  /** The resolved value, or undefined (recorded for the warning) when it cannot be resolved. */
  get(path: string, raw: unknown): unknown {
    if (raw === undefined) return undefined;
    try {
      const value = this.#resolver.resolve(raw);
      return value === NO_VALUE ? undefined : value;
    } catch (error) {
      if (!(error instanceof UnresolvedReference)) throw error;
      if (!this.#overridden(path)) this.#unresolved.push(`${path} (${error.reason})`);
      return undefined;
    }
  }

  /** The chosen branch of an `Fn::If` around a whole block (undefined, recorded, when undecidable). */
  #branch(path: string, read: () => unknown): unknown {
    try {
      const value = this.#resolver.branch(read());
      return value === NO_VALUE ? undefined : value;
    } catch (error) {
      if (!(error instanceof UnresolvedReference)) throw error;
      if (!this.#overridden(path)) this.#unresolved.push(`${path} (${error.reason})`);
      return undefined;
    }
  }

  /** Records a value that was read but cannot be used here (a layer ARN, S3 code). */
  unusable(path: string, reason: string): void {
    if (!this.#overridden(path)) this.#unresolved.push(`${path} (${reason})`);
  }

  #overridden(path: string): boolean {
    const key = overrideKeyOf(path);
    if (key === undefined || this.#override[key] === undefined) return false;
    // An environment override covers only the variables it names.
    const variable = /^Environment\.Variables\.(.+)$/.exec(path)?.[1];
    return (
      key !== 'environment' || (variable !== undefined && variable in (this.#override.environment ?? {}))
    );
  }

  /** What could not be resolved, for an error message. */
  get unresolved(): readonly string[] {
    return this.#unresolved;
  }

  /** The one warning for this function, or undefined when everything resolved. */
  warning(overridesOption: string): string | undefined {
    if (this.#unresolved.length === 0) return undefined;
    return (
      `lambda-testkit: ${this.label}: could not resolve ${this.#unresolved.join('; ')}. ` +
      `These values were left out. To supply them, set ${overridesOption} (any function property, ` +
      'for example { environment: { NAME: "value" }, layers: ["./layer"] }).'
    );
  }

  /**
   * `LoggingConfig` (CloudFormation `AWS::Lambda::Function.LoggingConfig`; SAM passes it through and
   * merges `Globals.Function`'s): its four keys, resolved one by one. The values are checked when
   * the function is resolved (logging-config.ts), so a wrong one fails with the same error as in a
   * TypeScript declaration.
   */
  #loggingConfig(raw: unknown): LoggingConfig | undefined {
    const block = this.#branch('LoggingConfig', () => raw);
    if (!block || typeof block !== 'object') return undefined;
    const source = block as Record<string, unknown>;
    const keys = {
      LogFormat: 'logFormat',
      ApplicationLogLevel: 'applicationLogLevel',
      SystemLogLevel: 'systemLogLevel',
      LogGroup: 'logGroup',
    } as const;
    const config: Record<string, unknown> = {};
    for (const [property, key] of Object.entries(keys)) {
      const value = this.get(`LoggingConfig.${property}`, source[property]);
      if (value !== undefined) config[key] = value;
    }
    return config as LoggingConfig;
  }

  /** The properties every Lambda function resource has, resolved. */
  common(properties: Record<string, unknown>): Partial<FunctionDeclaration> {
    const declaration: Partial<FunctionDeclaration> = {};
    const handler = this.get('Handler', properties.Handler);
    if (typeof handler === 'string') declaration.handler = handler;
    const runtime = this.get('Runtime', properties.Runtime);
    if (typeof runtime === 'string') declaration.runtime = runtime;
    const variables = this.#branch('Environment.Variables', () => {
      const environment = this.#branch('Environment', () => properties.Environment);
      return (environment as { Variables?: unknown } | undefined)?.Variables;
    });
    if (variables && typeof variables === 'object') {
      const environment: Record<string, string> = {};
      for (const [name, raw] of Object.entries(variables)) {
        const value = this.get(`Environment.Variables.${name}`, raw);
        if (value !== undefined)
          environment[name] = typeof value === 'string' ? value : JSON.stringify(value);
      }
      declaration.environment = environment;
    }
    const timeout = Number(this.get('Timeout', properties.Timeout));
    if (Number.isFinite(timeout)) declaration.timeout = timeout;
    const memorySize = Number(this.get('MemorySize', properties.MemorySize));
    if (Number.isFinite(memorySize)) declaration.memorySize = memorySize;
    const storage = this.#branch('EphemeralStorage.Size', () => {
      const value = this.#branch('EphemeralStorage', () => properties.EphemeralStorage);
      return (value as { Size?: unknown } | undefined)?.Size;
    });
    const ephemeralStorage = Number(this.get('EphemeralStorage.Size', storage));
    if (storage !== undefined && Number.isFinite(ephemeralStorage))
      declaration.ephemeralStorage = ephemeralStorage;
    const reserved = this.get('ReservedConcurrentExecutions', properties.ReservedConcurrentExecutions);
    if (reserved !== undefined && Number.isFinite(Number(reserved)))
      declaration.reservedConcurrency = Number(reserved);
    const logging = this.#loggingConfig(properties.LoggingConfig);
    if (logging) declaration.loggingConfig = logging;
    const architectures = this.get('Architectures', properties.Architectures);
    if (Array.isArray(architectures) && (architectures[0] === 'arm64' || architectures[0] === 'x86_64')) {
      declaration.architecture = architectures[0] as Architecture;
    }
    return declaration;
  }
}

/** `override` over `declaration`; `environment` is merged (the override's keys win). */
export function applyOverride(spec: FunctionSpec, override: FunctionOverride | undefined): FunctionSpec {
  if (!override) return spec;
  const merged: FunctionSpec = { ...spec, ...override, name: spec.name };
  if (spec.environment || override.environment) {
    merged.environment = { ...spec.environment, ...override.environment };
  }
  if (override.entry !== undefined && override.code === undefined) delete merged.code;
  if (override.code !== undefined && override.entry === undefined) {
    delete merged.entry;
    delete merged.bundle;
  }
  return merged;
}

/**
 * Inline code (`InlineCode`, `Code.ZipFile`) written as Lambda does: `index.js` for Node,
 * `index.py` for Python, in a folder named by its hash under the cache directory.
 */
export async function writeInlineCode(
  root: string,
  runtime: string | undefined,
  source: string,
): Promise<string> {
  const file = runtime?.startsWith('python') ? 'index.py' : 'index.js';
  const hash = createHash('sha256').update(file).update(source).digest('base64url').slice(0, 32);
  const dir = join(cacheDirectory(root), 'inline', hash);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, file), source);
  return dir;
}

/** Fails when a required property is missing after resolution and overrides. */
export function requireComplete(
  spec: FunctionSpec,
  props: FunctionProperties,
  overridesOption: string,
): void {
  const label = props.label;
  const missing: string[] = (['runtime', 'handler'] as const).filter(
    (k) => typeof spec[k] !== 'string' || spec[k] === '',
  );
  if (!spec.code && !spec.entry) missing.push('code');
  if (missing.length > 0) {
    throw new ConfigError(
      ErrorCodes.TEMPLATE_INVALID,
      `${label} has no usable ${missing.join(', ')}` +
        `${props.unresolved.length ? ` (${props.unresolved.join('; ')})` : ''}. ` +
        `Declare it in the template, or set it in ${overridesOption}.`,
      {
        details: {
          function: spec.name,
          missing,
          reason: `no usable ${missing.join(', ')}${props.unresolved.length ? ` (${props.unresolved.join('; ')})` : ''}`,
        },
      },
    );
  }
  runtimeOf(spec, label, overridesOption);
}

function runtimeOf(spec: FunctionSpec, label: string, overridesOption: string) {
  try {
    return runtimeInfo(spec.runtime);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(
      error.code,
      `${label}: ${error.message} In a test run, set runtime (and code built for it) in ${overridesOption}.`,
      { cause: error, details: error.details },
    );
  }
}

/**
 * Fails early, naming the files looked for, when a Node or Python handler names a file the code
 * directory does not have (what Lambda reports as Runtime.ImportModuleError at the first invoke).
 */
export async function checkHandlerFile(spec: FunctionSpec): Promise<void> {
  if (!spec.code || spec.code.endsWith('.zip')) return;
  const family = runtimeInfo(spec.runtime).family;
  if (family === 'provided') return checkBootstrap(spec);
  if (family !== 'nodejs' && family !== 'python') return;
  const dot = spec.handler.lastIndexOf('.');
  const invalid = () =>
    new ConfigError(
      ErrorCodes.BAD_HANDLER,
      `Function "${spec.name}": handler "${spec.handler}" is not "<file>.<export>". Expected for example "index.handler".`,
      { details: { function: spec.name, handler: spec.handler } },
    );
  if (dot <= 0 || dot === spec.handler.length - 1) throw invalid();
  const module = spec.handler.slice(0, dot);
  // Python's module part is dotted (`pkg.app.handler` → pkg/app.py); Node's is a path.
  const base = family === 'python' ? module.replaceAll('.', '/') : module;
  const candidates =
    family === 'python'
      ? [`${base}.py`, `${base}/__init__.py`]
      : ['.js', '.mjs', '.cjs'].map((e) => `${base}${e}`);
  for (const candidate of candidates) {
    try {
      if ((await stat(join(spec.code, candidate))).isFile()) return;
    } catch {
      // try the next extension
    }
  }
  let present: string[] = [];
  try {
    present = (await readdir(join(spec.code, dirname(base)))).slice(0, 10);
  } catch {
    // the folder itself is missing; say so below
  }
  throw new ConfigError(
    ErrorCodes.BAD_HANDLER,
    `Function "${spec.name}": handler "${spec.handler}" names ${candidates.join(' or ')}, which ${spec.code} does not contain` +
      `${present.length ? ` (found: ${present.join(', ')})` : ''}. Fix the handler's file part, or build the code first.`,
    { details: { function: spec.name, handler: spec.handler, code: spec.code } },
  );
}

/**
 * An OS-only runtime (`provided.al2023`) starts the executable `bootstrap` from the code or a
 * layer (`/var/task/bootstrap`, `/opt/bootstrap`). Go and Rust projects have it only once built
 * (`sam build`, `cargo lambda build`): without it every invoke would fail the same way.
 */
async function checkBootstrap(spec: FunctionSpec): Promise<void> {
  if (!spec.code || spec.image !== undefined) return;
  const folders = [spec.code, ...(spec.layers ?? [])];
  if (folders.some((folder) => folder.endsWith('.zip'))) return; // inside a zip: not looked into
  for (const folder of folders) {
    try {
      if ((await stat(join(folder, 'bootstrap'))).isFile()) return;
    } catch {
      // next folder
    }
  }
  throw new ConfigError(
    ErrorCodes.CODE_NOT_FOUND,
    `Function "${spec.name}": runtime ${spec.runtime} starts the executable "bootstrap" of the code or a layer, and neither ${folders.join(' nor ')} has one. ` +
      'Build it first (sam build, then use .aws-sam/build/template.yaml; for Go: GOOS=linux go build -o bootstrap), or point code at the built folder.',
    {
      details: {
        function: spec.name,
        code: spec.code,
        reason: 'no bootstrap executable: the code is not built',
      },
    },
  );
}
