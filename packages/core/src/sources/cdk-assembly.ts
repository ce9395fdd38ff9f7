/**
 * Functions of a CDK cloud assembly (`cdk.out`, what `cdk synth` writes): `manifest.json` lists
 * the stacks (and nested stage assemblies), each stack's `*.template.json` holds the
 * `AWS::Lambda::Function` resources, and each function's code is an asset folder found through
 * the resource's `aws:asset:path` metadata — the same link SAM CLI follows to run CDK apps
 * locally. `NodejsFunction` bundles are such assets (already bundled JavaScript).
 * Functions are named by construct path (`MyStack/Orders`); the full path
 * (`MyStack/Orders/Resource`) and the logical id, where unique, are aliases.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError, ErrorCodes } from '../errors.ts';
import type { FunctionSpec } from '../function-spec.ts';
import type { CloudFormationResource } from './cloudformation-template.ts';
import { readSourceFile } from './cloudformation-template.ts';
import {
  applyOverride,
  FunctionProperties,
  requireComplete,
  writeInlineCode,
} from './function-properties.ts';
import { loadStackTree } from './nested-stacks.ts';
import type { SourceContext } from './source-context.ts';
import type { CdkSourceOptions } from './source-options.ts';
import { type UnrunnableFunction, unrunnable } from './unrunnable.ts';

interface ManifestArtifact {
  type?: string;
  environment?: string;
  displayName?: string;
  properties?: { templateFile?: string; stackName?: string; directoryName?: string };
}

interface StackArtifact {
  id: string;
  displayName: string;
  stackName: string;
  /** The assembly folder the template and its asset paths are relative to. */
  dir: string;
  templateFile: string;
  environment?: string;
}

async function readManifest(dir: string): Promise<Record<string, ManifestArtifact>> {
  const path = join(dir, 'manifest.json');
  const text = await readSourceFile(
    path,
    'CDK cloud assembly manifest',
    'Run `cdk synth` first, and point cdk.assembly at its output folder (cdk.out).',
  );
  try {
    return (JSON.parse(text) as { artifacts?: Record<string, ManifestArtifact> }).artifacts ?? {};
  } catch (error) {
    throw new ConfigError(
      ErrorCodes.TEMPLATE_INVALID,
      `The CDK manifest ${path} is not valid JSON: ${(error as Error).message}. Run \`cdk synth\` again.`,
      { cause: error, details: { path } },
    );
  }
}

/** Every stack of the assembly, nested stage assemblies (`cdk:cloud-assembly`) included. */
async function listStacks(dir: string): Promise<StackArtifact[]> {
  const stacks: StackArtifact[] = [];
  for (const [id, artifact] of Object.entries(await readManifest(dir))) {
    if (artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile) {
      stacks.push({
        id,
        displayName: artifact.displayName ?? id,
        stackName: artifact.properties.stackName ?? id,
        dir,
        templateFile: artifact.properties.templateFile,
        environment: artifact.environment,
      });
    } else if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
      stacks.push(...(await listStacks(join(dir, artifact.properties.directoryName))));
    }
  }
  return stacks;
}

/** `aws://123456789012/eu-west-1` → its parts, where the app pinned them. */
function environmentOf(stack: StackArtifact, context: SourceContext): { region: string; accountId: string } {
  const [, account, region] = /^aws:\/\/([^/]+)\/([^/]+)$/.exec(stack.environment ?? '') ?? [];
  return {
    region: region && region !== 'unknown-region' ? region : context.region,
    accountId: account && account !== 'unknown-account' ? account : context.accountId,
  };
}

function metadataString(resource: CloudFormationResource, key: string): string | undefined {
  const value = resource.Metadata?.[key];
  return typeof value === 'string' ? value : undefined;
}

function assetPath(
  stack: StackArtifact,
  resource: CloudFormationResource,
  property: string,
): string | undefined {
  const path = metadataString(resource, 'aws:asset:path');
  const assetProperty = metadataString(resource, 'aws:asset:property');
  if (!path || (assetProperty && assetProperty !== property)) return undefined;
  return isAbsolute(path) ? path : resolve(stack.dir, path);
}

/** What an assembly yields: the functions that can run here, and those that cannot. */
export interface CdkFunctions {
  specs: FunctionSpec[];
  unrunnable: UnrunnableFunction[];
  /** Every stack template read, nested stacks included. */
  templates: string[];
}

export async function loadCdkFunctions(
  options: CdkSourceOptions,
  context: SourceContext,
): Promise<CdkFunctions> {
  const assembly = resolve(context.root, options.assembly);
  let stacks = await listStacks(assembly);
  if (options.stacks) {
    const known = new Set(stacks.flatMap((s) => [s.id, s.displayName, s.stackName]));
    const unknown = options.stacks.filter((s) => !known.has(s));
    if (unknown.length > 0) {
      throw new ConfigError(
        ErrorCodes.CONFIG_INVALID,
        `cdk.stacks names ${unknown.map((s) => `"${s}"`).join(', ')}, not in the assembly ${assembly}. Stacks there: ${stacks.map((s) => s.displayName).join(', ') || '(none)'}.`,
        { details: { stacks: unknown, assembly } },
      );
    }
    const wanted = new Set(options.stacks);
    stacks = stacks.filter((s) => wanted.has(s.id) || wanted.has(s.displayName) || wanted.has(s.stackName));
  }

  const specs: FunctionSpec[] = [];
  const unrunnableFunctions: UnrunnableFunction[] = [];
  const templates: string[] = [];
  const logicalIds = new Map<string, number>();
  /** Every resource seen, by logical id and construct path, for naming an unmatched `functions` entry. */
  const seen = new Map<string, string>();
  const allNames: string[] = [];
  for (const stack of stacks) {
    // Nested stacks (CDK's NestedStack) are templates of the same assembly, named by asset metadata.
    const nodes = await loadStackTree({
      templatePath: join(stack.dir, stack.templateFile),
      what: `CloudFormation template of stack ${stack.displayName}`,
      parameters: options.parameters,
      ...environmentOf(stack, context),
      stackName: stack.stackName,
      warn: context.warn,
    });
    templates.push(...nodes.map((node) => node.templatePath));
    for (const { templatePath, template, resolver } of nodes) {
      const resources = template.Resources ?? {};
      for (const [logicalId, resource] of Object.entries(resources)) {
        const path = metadataString(resource, 'aws:cdk:path');
        for (const key of [logicalId, path, path?.replace(/\/Resource$/, '')]) {
          if (key) seen.set(key, resource.Type ?? 'unknown');
        }
        if (resource.Type !== 'AWS::Lambda::Function') continue;
        const cdkPath = path ?? `${stack.displayName}/${logicalId}`;
        const name = cdkPath.endsWith('/Resource') ? cdkPath.slice(0, -'/Resource'.length) : cdkPath;
        allNames.push(name);
        if (
          options.functions &&
          !options.functions.some((f) => f === name || f === cdkPath || f === logicalId)
        )
          continue;
        const aliases = [cdkPath, logicalId].filter((a) => a !== name);
        logicalIds.set(logicalId, (logicalIds.get(logicalId) ?? 0) + 1);
        try {
          const overrideKey = [name, cdkPath, logicalId].find((k) => options.overrides?.[k]);
          const override = overrideKey ? options.overrides?.[overrideKey] : undefined;
          const overridesOption = `cdk.overrides["${name}"]`;
          const label = `CDK function "${name}" (${logicalId} in ${templatePath})`;
          const props = new FunctionProperties(resolver, label, override);
          const properties = resource.Properties ?? {};

          if (properties.PackageType === 'Image' && !override?.code && !override?.entry) {
            throw new ConfigError(
              ErrorCodes.TEMPLATE_INVALID,
              `${label} is a container-image function (DockerImageFunction), which lambda-testkit cannot run from an assembly. Leave it out with cdk.functions or cdk.stacks, or give it code, runtime and handler in ${overridesOption}.`,
              {
                details: {
                  function: name,
                  path: templatePath,
                  reason: 'a container image (DockerImageFunction)',
                },
              },
            );
          }
          let spec: FunctionSpec = { name, aliases, runtime: '', handler: '', ...props.common(properties) };
          const code = properties.Code as
            | { ZipFile?: unknown; S3Bucket?: unknown; S3Key?: unknown }
            | undefined;
          const inline = props.get('Code.ZipFile', code?.ZipFile);
          const asset = assetPath(stack, resource, 'Code');
          if (typeof inline === 'string')
            spec.code = await writeInlineCode(context.root, spec.runtime, inline);
          else if (asset) spec.code = asset;
          else if (!override?.code && !override?.entry) {
            throw new ConfigError(
              ErrorCodes.CODE_NOT_FOUND,
              `${label} has code in S3 (${JSON.stringify(code?.S3Key ?? code)}) and no asset folder in ${stack.dir} (no "aws:asset:path" metadata; synthesize with asset metadata enabled, the default). Set its code in ${overridesOption}.`,
              { details: { function: name, path: templatePath, reason: 'code in S3 and no asset folder' } },
            );
          }
          spec.layers = layerPaths(props, properties.Layers, resources, stack);
          spec = applyOverride(spec, override);
          requireComplete(spec, props, overridesOption);
          const warning = props.warning(overridesOption);
          if (warning) context.warn(warning);
          specs.push(spec);
        } catch (error) {
          unrunnableFunctions.push(unrunnable(name, aliases, error));
        }
      }
    }
  }
  const unknownOverrides = Object.keys(options.overrides ?? {}).filter(
    (k) => seen.get(k) !== 'AWS::Lambda::Function',
  );
  if (unknownOverrides.length > 0) {
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `cdk.overrides names ${unknownOverrides.map((k) => `"${k}"`).join(', ')}, which is no function of the loaded stacks (a typo would silently do nothing). Functions there: ${allNames.join(', ') || '(none)'}.`,
      { details: { overrides: unknownOverrides, assembly } },
    );
  }
  const loaded = new Set([...specs, ...unrunnableFunctions].flatMap((s) => [s.name, ...(s.aliases ?? [])]));
  const unmatched = (options.functions ?? []).filter((f) => !loaded.has(f));
  if (unmatched.length > 0) {
    const why = unmatched.map((f) =>
      seen.has(f)
        ? `"${f}" is a ${seen.get(f)}, which lambda-testkit does not run`
        : `"${f}" is not in the loaded stacks`,
    );
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `cdk.functions: ${why.join('; ')}. Functions there: ${allNames.join(', ') || '(none)'}.`,
      { details: { functions: unmatched, assembly } },
    );
  }
  // A logical id is an alias only when one loaded function has it; otherwise it would be ambiguous.
  for (const spec of [...specs, ...unrunnableFunctions]) {
    spec.aliases = (spec.aliases ?? []).filter((a) => a.includes('/') || logicalIds.get(a) === 1);
  }
  return { specs, unrunnable: unrunnableFunctions, templates };
}

function layerPaths(
  props: FunctionProperties,
  raw: unknown,
  resources: Record<string, CloudFormationResource>,
  stack: StackArtifact,
): string[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const layers: string[] = [];
  raw.forEach((item, index) => {
    const path = `Layers[${index}]`;
    const ref =
      typeof item === 'object' && item !== null && typeof (item as { Ref?: unknown }).Ref === 'string'
        ? (item as { Ref: string }).Ref
        : undefined;
    const layer = ref ? resources[ref] : undefined;
    if (ref && layer?.Type === 'AWS::Lambda::LayerVersion') {
      const asset = assetPath(stack, layer, 'Content');
      if (asset) layers.push(asset);
      else props.unusable(path, `layer ${ref} has no asset folder (aws:asset:path metadata)`);
      return;
    }
    const value = props.get(path, item);
    if (value !== undefined)
      props.unusable(path, `layer ${String(value)} is published in AWS and cannot be downloaded here`);
  });
  return layers;
}
