/**
 * Functions of a SAM template: `AWS::Serverless::Function` (with `Globals.Function`) and
 * `AWS::Lambda::Function`, named by logical id, with local code (`CodeUri`, `InlineCode`), local
 * layers (`AWS::Serverless::LayerVersion` `ContentUri` via `!Ref`) and SAM's esbuild build
 * (`Metadata.BuildMethod: esbuild`), mapped to an `entry` bundled like `sam build` does. Nested
 * applications and stacks are read too (`nested-stacks.ts`), and so are templates `cdk synth`
 * wrote (their asset metadata names the code). A function that cannot run here is left out and
 * reported (`unrunnable.ts`); the template's other functions load.
 * Property semantics: AWS SAM specification, "AWS::Serverless::Function" and "Globals section".
 */
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, ErrorCodes } from '../errors.ts';
import { BUNDLE_LOADERS, type BundleOptions, type FunctionSpec } from '../function-spec.ts';
import type { CloudFormationResource } from './cloudformation-template.ts';
import {
  applyOverride,
  FunctionProperties,
  requireComplete,
  writeInlineCode,
} from './function-properties.ts';
import type { IntrinsicResolver } from './intrinsics.ts';
import { conditionHolds, loadStackTree, type StackNode, templateFile } from './nested-stacks.ts';
import type { SourceContext } from './source-context.ts';
import type { SamSourceOptions } from './source-options.ts';
import { type UnrunnableFunction, unrunnable } from './unrunnable.ts';

const FUNCTION_TYPES = new Set(['AWS::Serverless::Function', 'AWS::Lambda::Function']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * SAM's Globals rule: maps merge (the function's keys win), lists add up (globals first),
 * everything else is replaced by the function's value.
 */
function withGlobals(
  globals: Record<string, unknown>,
  own: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...globals };
  for (const [key, value] of Object.entries(own)) {
    const global = globals[key];
    if (Array.isArray(global) && Array.isArray(value)) merged[key] = [...global, ...value];
    else if (isObject(global) && isObject(value) && !isIntrinsic(value))
      merged[key] = withGlobals(global, value);
    else merged[key] = value;
  }
  return merged;
}

function isIntrinsic(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || (keys[0] ?? '').startsWith('Fn::'));
}

/** SAM's esbuild `BuildProperties` as `BundleOptions` (sam build's esbuild builder flags). */
function bundleOptions(properties: Record<string, unknown>, label: string): BundleOptions {
  // `sam build` leaves out exactly what `External` lists, the SDK included, and minifies by
  // default (AWS SAM developer guide, "Building Node.js Lambda functions with esbuild"). Source
  // maps stay on unless `Sourcemap: false`: a test run wants stack traces at the .ts lines.
  const options: BundleOptions = { bundleAwsSdk: true, minify: true };
  const format = String(properties.Format ?? '').toLowerCase();
  if (format === 'esm' || format === 'cjs') options.format = format;
  if (properties.Minify !== undefined)
    options.minify = properties.Minify === true || properties.Minify === 'true';
  if (properties.Sourcemap !== undefined) {
    options.sourcemap = properties.Sourcemap === true || properties.Sourcemap === 'true';
  }
  if (typeof properties.Target === 'string') options.target = properties.Target;
  if (Array.isArray(properties.External)) options.external = properties.External.map(String);
  if (Array.isArray(properties.Loader)) {
    // `- .png=dataurl`, as esbuild's --loader:.png=dataurl
    const loader: NonNullable<BundleOptions['loader']> = {};
    for (const item of properties.Loader.map(String)) {
      const [ext, kind] = item.split('=');
      const known = BUNDLE_LOADERS.find((l) => l === kind);
      if (!ext?.startsWith('.') || !known) {
        // sam build would fail on it too; dropping it would fail later, on the import it serves.
        throw new ConfigError(
          ErrorCodes.TEMPLATE_INVALID,
          `${label}: Metadata.BuildProperties.Loader item "${item}" is not "<.extension>=<loader>" with a loader esbuild knows (${BUNDLE_LOADERS.join(', ')}). Example: ".sql=text".`,
          { details: { item } },
        );
      }
      loader[ext] = known;
    }
    options.loader = loader;
  }
  return options;
}

/** What a SAM template yields: the functions that can run here, and those that cannot. */
export interface SamFunctions {
  specs: FunctionSpec[];
  unrunnable: UnrunnableFunction[];
  /** Every template file read: the root and its nested templates. */
  templates: string[];
}

/** One function resource of the template tree, with the names it answers to. */
interface FunctionSite {
  stack: StackNode;
  logicalId: string;
  resource: CloudFormationResource;
  /** `Function`, or `Parent/Child/Function` in a nested template. */
  name: string;
  aliases: string[];
  /** Merged with `Globals.Function` for a serverless function. */
  properties: Record<string, unknown>;
  serverless: boolean;
  /** The resource `Condition` holds (or cannot be evaluated). */
  active: boolean;
}

export async function loadSamFunctions(
  options: SamSourceOptions,
  context: SourceContext,
): Promise<SamFunctions> {
  const path = await templateFile(resolve(context.root, options.template));
  const stacks = await loadStackTree({
    templatePath: path,
    parameters: options.parameters,
    region: context.region,
    accountId: context.accountId,
    warn: context.warn,
  });
  const sites = functionSites(stacks);
  checkWanted(options, sites, stacks[0]?.template.Resources ?? {}, path);
  checkOverrideKeys(options, sites, path);
  const specs: FunctionSpec[] = [];
  const unrunnableFunctions: UnrunnableFunction[] = [];
  for (const site of sites) {
    if (!site.active) continue;
    if (options.functions && !options.functions.some((f) => f === site.name || site.aliases.includes(f)))
      continue;
    try {
      specs.push(await loadFunction(site, options, context));
    } catch (error) {
      unrunnableFunctions.push(unrunnable(site.name, site.aliases, error));
    }
  }
  return { specs, unrunnable: unrunnableFunctions, templates: stacks.map((s) => s.templatePath) };
}

/**
 * Every function resource of the tree, named as SAM CLI names them: the logical id in the root
 * template, `Parent/Child/Function` in nested ones, with the logical id as an alias where only
 * one function of the tree has it; a literal `FunctionName` and CDK's construct path
 * (`aws:cdk:path` without `/Resource`) are aliases too.
 */
function functionSites(stacks: readonly StackNode[]): FunctionSite[] {
  const sites: FunctionSite[] = [];
  for (const stack of stacks) {
    const globals = (stack.template.Globals?.Function ?? {}) as Record<string, unknown>;
    for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
      if (!FUNCTION_TYPES.has(resource.Type ?? '')) continue;
      const serverless = resource.Type === 'AWS::Serverless::Function';
      const properties = serverless
        ? withGlobals(globals, resource.Properties ?? {})
        : (resource.Properties ?? {});
      const aliases: string[] = [];
      const functionName = literalName(stack.resolver, properties.FunctionName);
      if (functionName) aliases.push(functionName);
      const cdkPath = resource.Metadata?.['aws:cdk:path'];
      if (typeof cdkPath === 'string') aliases.push(cdkPath.replace(/\/Resource$/, ''));
      sites.push({
        stack,
        logicalId,
        resource,
        name: [...stack.path, logicalId].join('/'),
        aliases,
        properties,
        serverless,
        active: !resource.Condition || conditionHolds(stack.resolver, resource.Condition),
      });
    }
  }
  const active = sites.filter((s) => s.active);
  for (const site of sites) {
    const same = active.filter((s) => s.logicalId === site.logicalId || s.name === site.logicalId);
    if (site.stack.path.length > 0 && same.length === 1 && same[0] === site)
      site.aliases.unshift(site.logicalId);
    site.aliases = [...new Set(site.aliases)].filter((a) => a !== site.name);
  }
  return sites;
}

async function loadFunction(
  site: FunctionSite,
  options: SamSourceOptions,
  context: SourceContext,
): Promise<FunctionSpec> {
  const { stack, resource, properties, serverless, name } = site;
  const overrideKey = [name, ...site.aliases].find((key) => options.overrides?.[key]);
  const override = overrideKey ? options.overrides?.[overrideKey] : undefined;
  const overridesOption = name.includes('/') ? `sam.overrides["${name}"]` : `sam.overrides.${name}`;
  const label = `SAM function "${name}" (${stack.templatePath})`;
  const props = new FunctionProperties(stack.resolver, label, override);

  if (properties.PackageType === 'Image' && !override?.code && !override?.entry) {
    throw new ConfigError(
      ErrorCodes.TEMPLATE_INVALID,
      `${label} is a container-image function (PackageType: Image), which lambda-testkit cannot run from a template. Leave it out with sam.functions, or give it code, runtime and handler in ${overridesOption}.`,
      {
        details: {
          function: name,
          path: stack.templatePath,
          reason: 'a container image (PackageType: Image)',
        },
      },
    );
  }
  let spec: FunctionSpec = { name, runtime: '', handler: '', ...props.common(properties) };
  if (site.aliases.length > 0) spec.aliases = [...site.aliases];
  await setCode(spec, {
    properties,
    resource,
    serverless,
    props,
    base: dirname(stack.templatePath),
    root: context.root,
    overridden: Boolean(override?.code ?? override?.entry),
  });
  const resources = stack.template.Resources ?? {};
  spec.layers = await layerPaths(props, properties.Layers, resources, dirname(stack.templatePath));
  spec = applyOverride(spec, override);
  requireComplete(spec, props, overridesOption);
  const warning = props.warning(overridesOption);
  if (warning) context.warn(warning);
  return spec;
}

/** Every `sam.functions` entry must name a function of the tree. */
function checkWanted(
  options: SamSourceOptions,
  sites: readonly FunctionSite[],
  rootResources: Record<string, CloudFormationResource>,
  path: string,
): void {
  for (const wanted of options.functions ?? []) {
    if (sites.some((s) => s.name === wanted || s.aliases.includes(wanted))) continue;
    const type = rootResources[wanted]?.Type;
    const found = type ? `a resource of type ${type}, which lambda-testkit does not run` : 'not a resource';
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `sam.functions names "${wanted}", ${found} in ${path}. Functions there: ${listFunctions(sites)}.`,
      { details: { function: wanted, path } },
    );
  }
}

/** An override for a name no function has is a typo that would silently do nothing. */
function checkOverrideKeys(options: SamSourceOptions, sites: readonly FunctionSite[], path: string): void {
  // A logical id two nested functions share is no alias: an override keyed by it would apply to neither.
  const names = new Set(sites.flatMap((s) => [s.name, ...s.aliases]));
  const unknown = Object.keys(options.overrides ?? {}).filter((key) => !names.has(key));
  if (unknown.length > 0) {
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `sam.overrides names ${unknown.map((k) => `"${k}"`).join(', ')}, which no function of ${path} is called. Functions there: ${listFunctions(sites)}.`,
      { details: { overrides: unknown, path } },
    );
  }
}

function listFunctions(sites: readonly FunctionSite[]): string {
  return sites.length ? sites.map((s) => s.name).join(', ') : '(none)';
}

function literalName(resolver: IntrinsicResolver, raw: unknown): string | undefined {
  try {
    const value = resolver.resolve(raw);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

interface CodeInputs {
  properties: Record<string, unknown>;
  resource: CloudFormationResource;
  serverless: boolean;
  props: FunctionProperties;
  base: string;
  root: string;
  overridden: boolean;
}

async function setCode(spec: FunctionSpec, inputs: CodeInputs): Promise<void> {
  const { properties, resource, serverless, props, base, root } = inputs;
  const inline = serverless
    ? props.get('InlineCode', properties.InlineCode)
    : props.get('Code.ZipFile', (properties.Code as { ZipFile?: unknown } | undefined)?.ZipFile);
  if (typeof inline === 'string') {
    spec.code = await writeInlineCode(root, spec.runtime, inline);
    return;
  }
  const codeProperty = serverless ? 'CodeUri' : 'Code';
  // SAM CLI runs a function without CodeUri from the template's folder.
  const uri = serverless
    ? (props.get('CodeUri', properties.CodeUri) ?? '.')
    : props.get('Code', properties.Code);
  if (typeof uri !== 'string' || uri.startsWith('s3://')) {
    if (!inputs.overridden && uri !== undefined) {
      props.unusable(codeProperty, `${JSON.stringify(uri)} is not a local path; S3 code cannot be read here`);
    }
    return;
  }
  const codeDir = resolve(base, uri);
  const metadata = resource.Metadata ?? {};
  if (String(metadata.BuildMethod ?? '').toLowerCase() === 'esbuild') {
    const build = (metadata.BuildProperties ?? {}) as Record<string, unknown>;
    const entryPoints = Array.isArray(build.EntryPoints) ? build.EntryPoints.map(String) : [];
    // sam build names the output after the entry's file; we name it `index` and the bundler
    // rewrites the handler's file part accordingly. Without EntryPoints, SAM uses the handler's file.
    const entry = entryPoints[0] ?? (await handlerSource(codeDir, spec.handler));
    // A template `sam build` wrote (.aws-sam/build/template.yaml) keeps the Metadata, but its
    // CodeUri holds the built JavaScript only: use that as it is.
    const built = entryPoints[0] !== undefined && !(await isFile(resolve(codeDir, entryPoints[0])));
    if (entry && !built) {
      spec.entry = resolve(codeDir, entry);
      spec.bundle = bundleOptions(build, props.label);
      return;
    }
    if (!(await builtHandler(codeDir, spec.handler))) {
      // Neither a source to bundle nor built JavaScript: say which source was looked for, not
      // only the .js file the handler check below would name.
      const looked =
        entryPoints[0] ?? SOURCE_EXTENSIONS.map((e) => `${handlerFile(spec.handler)}${e}`).join(' or ');
      throw new ConfigError(
        ErrorCodes.CODE_NOT_FOUND,
        `${props.label} is built with esbuild, but its entry ${entryPoints[0] ? 'point ' : ''}${looked} is not in ${codeDir}. Fix ${entryPoints[0] ? 'Metadata.BuildProperties.EntryPoints' : 'the file part of Handler'} or CodeUri.`,
        { details: { function: spec.name, path: codeDir } },
      );
    }
  }
  spec.code = codeDir;
}

async function layerPaths(
  props: FunctionProperties,
  raw: unknown,
  resources: Record<string, CloudFormationResource>,
  base: string,
): Promise<string[] | undefined> {
  // `Layers: !Ref LayerArns` (a CommaDelimitedList parameter) or `!If [...]`: resolve the list first.
  const list = Array.isArray(raw) ? raw : props.get('Layers', raw);
  if (!Array.isArray(list)) return undefined;
  const layers: string[] = [];
  for (const [index, item] of list.entries()) {
    const path = `Layers[${index}]`;
    const ref = isObject(item) && typeof item.Ref === 'string' ? item.Ref : undefined;
    const layer = ref ? resources[ref] : undefined;
    if (ref && layer) {
      const content =
        layer.Type === 'AWS::Serverless::LayerVersion'
          ? layer.Properties?.ContentUri
          : layer.Properties?.Content;
      const local = props.get(path, content);
      if (typeof local !== 'string' || local.startsWith('s3://')) {
        props.unusable(path, `layer ${ref} has no local ContentUri`);
        continue;
      }
      const folder = resolve(base, local);
      const buildMethod = String(layer.Metadata?.BuildMethod ?? '');
      // sam build installs a nodejs layer's package.json into nodejs/node_modules; the source
      // folder as it is would give an /opt without /opt/nodejs/node_modules.
      if (buildMethod.startsWith('nodejs') && !(await isDirectory(join(folder, 'nodejs')))) {
        props.unusable(
          path,
          `layer ${ref} is built by sam build (BuildMethod: ${buildMethod}) and ${folder} has no nodejs/ folder; run sam build and use .aws-sam/build/template.yaml, or give the layer folder in the override's layers`,
        );
        continue;
      }
      layers.push(folder);
      continue;
    }
    const value = props.get(path, item);
    if (value !== undefined)
      props.unusable(path, `layer ${String(value)} is published in AWS and cannot be downloaded here`);
  }
  return layers;
}

const SOURCE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.cjs'];

/** `src/app.lambdaHandler` → `src/app` (empty when the handler has no file part). */
function handlerFile(handler: string): string {
  const dot = handler.lastIndexOf('.');
  return dot <= 0 ? '' : handler.slice(0, dot);
}

/** `app.lambdaHandler` → the first of app.ts, app.mts, app.js, app.mjs, app.cjs in the code folder. */
async function handlerSource(codeDir: string, handler: string): Promise<string | undefined> {
  const file = handlerFile(handler);
  if (!file) return undefined;
  for (const extension of SOURCE_EXTENSIONS) {
    if (await isFile(join(codeDir, `${file}${extension}`))) return `${file}${extension}`;
  }
  return undefined;
}

/** Whether the code folder has the JavaScript the handler names (what sam build writes). */
async function builtHandler(codeDir: string, handler: string): Promise<boolean> {
  const file = handlerFile(handler);
  if (!file) return true; // a handler without a file part is reported by the handler check
  for (const extension of ['.js', '.mjs', '.cjs']) {
    if (await isFile(join(codeDir, `${file}${extension}`))) return true;
  }
  return false;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
