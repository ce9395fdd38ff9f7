// Where function specs come from: the config's `functions` map, SAM templates and CDK cloud
// assemblies; TypeScript entries of any of them are bundled here (the pool only takes code
// folders). The pool server calls `loadFunctionSpecs` at start and again on watch reruns.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { TestkitConfig } from '../config.ts';
import { ConfigError, ErrorCodes } from '../errors.ts';
import type { FunctionSpec } from '../function-spec.ts';
import { bundleEntry } from './bundle-entry.ts';
import { loadCdkFunctions } from './cdk-assembly.ts';
import { checkHandlerFile } from './function-properties.ts';
import { loadSamFunctions } from './sam-template.ts';
import type { SourceContext } from './source-context.ts';
import { type CdkSourceOptions, checkSourceOptions, type SamSourceOptions } from './source-options.ts';
import { type UnrunnableFunction, unrunnable } from './unrunnable.ts';

export { BUNDLES_KEPT_PER_ENTRY, bundledSources, bundleEntry, cacheDirectory } from './bundle-entry.ts';
export { parseTemplate } from './cloudformation-template.ts';
export type { CdkSourceOptions, FunctionOverride, SamSourceOptions } from './source-options.ts';
export { type UnrunnableFunction, unrunnableSummary } from './unrunnable.ts';

export interface LoadFunctionSpecsOptions {
  /**
   * Receives one line per function with references only a deployment could resolve, and one per
   * nested template that cannot be read.
   * @default console.warn
   */
  warn?: (message: string) => void;
}

/** What `loadFunctions` yields. */
export interface LoadedFunctions {
  /** Every function that can run here, entries bundled. */
  specs: FunctionSpec[];
  /**
   * Template functions (SAM, CDK) that cannot run here, each with the error an invoke of it
   * fails with. Functions of the `functions` map are never here: their errors fail the load.
   */
  unrunnable: UnrunnableFunction[];
  /**
   * Template files read besides the config (SAM and CDK stack templates, nested ones included): an
   * edit to one changes what loads, so watch modes rerun on it.
   */
  templates: string[];
}

/**
 * All functions the configuration declares — `functions`, then `sam`, then `cdk` — with entries
 * bundled (their `code` is the bundle folder, their handler `index.<export>`) and relative
 * paths made absolute against `root`. A template function that cannot run here (no code, a
 * retired runtime, a container image, a failed bundle, …) is listed in `unrunnable` instead of
 * failing the load; configuration errors (a malformed option, an unreadable root template, an
 * override or `functions` entry for no function, a name clash) still throw.
 */
export async function loadFunctions(
  config: TestkitConfig,
  root: string,
  options: LoadFunctionSpecsOptions = {},
): Promise<LoadedFunctions> {
  const context: SourceContext = {
    root,
    region: config.region ?? 'us-east-1',
    accountId: config.accountId ?? '123456789012',
    warn: options.warn ?? ((message) => console.warn(message)),
  };
  const declared: FunctionSpec[] = Object.entries(config.functions ?? {}).map(([name, declaration]) => ({
    name,
    ...declaration,
  }));
  const fromTemplates = new Set<FunctionSpec>();
  const templates: string[] = [];
  const unrunnableFunctions: UnrunnableFunction[] = [];
  for (const load of [
    config.sam === undefined
      ? undefined
      : () => {
          checkSourceOptions('sam', config.sam, 'template');
          return loadSamFunctions(config.sam as SamSourceOptions, context);
        },
    config.cdk === undefined
      ? undefined
      : () => {
          checkSourceOptions('cdk', config.cdk, 'assembly');
          return loadCdkFunctions(config.cdk as CdkSourceOptions, context);
        },
  ]) {
    if (!load) continue;
    const loaded = await load();
    for (const spec of loaded.specs) fromTemplates.add(spec);
    declared.push(...loaded.specs);
    unrunnableFunctions.push(...loaded.unrunnable);
    templates.push(...loaded.templates);
  }
  functionNameIndex([
    ...declared,
    ...unrunnableFunctions.map((u) => ({ name: u.name, aliases: u.aliases, runtime: '', handler: '' })),
  ]);

  const specs: FunctionSpec[] = [];
  for (const spec of declared) {
    try {
      const bundled = await bundleEntry(absolutePaths(spec, root), root);
      await checkCode(bundled);
      specs.push(bundled);
    } catch (error) {
      // The user's own `functions` are theirs to fix now; a template's function is left out.
      if (!fromTemplates.has(spec)) throw error;
      unrunnableFunctions.push(unrunnable(spec.name, spec.aliases ?? [], error));
    }
  }
  return { specs, unrunnable: unrunnableFunctions, templates };
}

/**
 * Like `loadFunctions`, but strict: the first template function that cannot run fails the load
 * with its error (for tools that want every declared function or none).
 */
export async function loadFunctionSpecs(
  config: TestkitConfig,
  root: string,
  options: LoadFunctionSpecsOptions = {},
): Promise<FunctionSpec[]> {
  const { specs, unrunnable: left } = await loadFunctions(config, root, options);
  const first = left[0];
  if (first) throw first.error.cause ?? first.error;
  return specs;
}

/** Paths from `functions` and overrides are relative to the root; template paths are absolute already. */
function absolutePaths(spec: FunctionSpec, root: string): FunctionSpec {
  const out = { ...spec };
  if (spec.code !== undefined) out.code = resolve(root, spec.code);
  if (spec.entry !== undefined) out.entry = resolve(root, spec.entry);
  if (spec.layers !== undefined) out.layers = spec.layers.map((layer) => resolve(root, layer));
  return out;
}

async function checkCode(spec: FunctionSpec): Promise<void> {
  for (const [what, path] of [
    ['code', spec.code],
    ...(spec.layers ?? []).map((layer, i) => [`layer ${i + 1}`, layer]),
  ] as const) {
    if (path === undefined) continue;
    try {
      await stat(path);
    } catch {
      throw new ConfigError(
        ErrorCodes.CODE_NOT_FOUND,
        `Function "${spec.name}": its ${what} ${path} does not exist. Build or synthesize first (sam build, cdk synth), or fix the path.`,
        { details: { function: spec.name, path } },
      );
    }
  }
  await checkHandlerFile(spec);
}

/**
 * Every name and alias → its spec. Two functions claiming one name is a configuration error
 * (naming both), so a name always means one function.
 */
export function functionNameIndex(specs: readonly FunctionSpec[]): Map<string, FunctionSpec> {
  const index = new Map<string, FunctionSpec>();
  for (const spec of specs) {
    for (const name of [spec.name, ...(spec.aliases ?? [])]) {
      const other = index.get(name);
      if (other && other !== spec) {
        throw new ConfigError(
          ErrorCodes.CONFIG_INVALID,
          `Two functions answer to the name "${name}": "${other.name}" and "${spec.name}". Rename one in "functions", or leave one out (sam.functions, cdk.functions).`,
          { details: { name, functions: [other.name, spec.name] } },
        );
      }
      index.set(name, spec);
    }
  }
  return index;
}
