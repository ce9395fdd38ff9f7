/**
 * A SAM template and the templates nested in it, as SAM CLI loads them for local runs: an
 * `AWS::Serverless::Application` whose `Location` is a local template, and an
 * `AWS::CloudFormation::Stack` whose `TemplateURL` is one (CDK writes it as asset metadata), any
 * number of levels deep. A child's parameters are the resource's `Parameters`, resolved in the
 * parent; `sam.parameters` are the root's only (SAM CLI's `--parameter-overrides` work the same).
 * Remote children (the Serverless Application Repository, S3 URLs) cannot be read here: one
 * warning each, instead of their functions silently missing.
 *
 * `Fn::ForEach` loops (the `AWS::LanguageExtensions` transform) are expanded in each template.
 *
 * CDK asset metadata (`aws:asset:path` + `aws:asset:property`) replaces the property it names by
 * the local asset path, as SAM CLI does for templates `cdk synth` wrote: a CDK function's `Code`,
 * a layer's `Content`, a nested stack's `TemplateURL`.
 */
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { LambdaTestkitError } from '../errors.ts';
import type { CloudFormationResource, CloudFormationTemplate } from './cloudformation-template.ts';
import { readTemplate } from './cloudformation-template.ts';
import { expandForEach } from './for-each.ts';
import { IntrinsicResolver, NO_VALUE, shortForm, UnresolvedReference } from './intrinsics.ts';

/** One template of the tree. */
export interface StackNode {
  /** Logical ids of the nested resources from the root down to this template ([] for the root). */
  path: string[];
  /** Absolute path of the template file. */
  templatePath: string;
  template: CloudFormationTemplate;
  resolver: IntrinsicResolver;
}

export interface StackTreeOptions {
  /** Absolute path of the root template. */
  templatePath: string;
  /** The root's parameter values (`sam.parameters`). */
  parameters?: Record<string, string>;
  region: string;
  accountId: string;
  /**
   * `AWS::StackName` in every template of the tree.
   * @default 'local' (SAM CLI's value for local runs)
   */
  stackName?: string;
  /**
   * How errors name the root template.
   * @default 'SAM template'
   */
  what?: string;
  /** One line per nested template that cannot be read. */
  warn: (message: string) => void;
}

/** Nested resource type → the property naming its template. */
const NESTED_TEMPLATE_PROPERTY: Record<string, string> = {
  'AWS::Serverless::Application': 'Location',
  'AWS::CloudFormation::Stack': 'TemplateURL',
};

/** Deeper than this is a loop the path check missed (a template reached through links). */
const MAX_DEPTH = 10;

/** `template.yaml` / `template.yml` / `template.json` of a folder, or the path as it is. */
export async function templateFile(path: string): Promise<string> {
  try {
    if (!(await stat(path)).isDirectory()) return path;
  } catch {
    return path; // readTemplate reports the missing file
  }
  for (const name of ['template.yaml', 'template.yml', 'template.json']) {
    try {
      await stat(join(path, name));
      return join(path, name);
    } catch {
      // next name
    }
  }
  return join(path, 'template.yaml');
}

/** Every template of the tree, the root first, each parent before its children. */
export async function loadStackTree(options: StackTreeOptions): Promise<StackNode[]> {
  const template = withAssetPaths(await readTemplate(options.templatePath, options.what ?? 'SAM template'));
  const root: StackNode = {
    path: [],
    templatePath: options.templatePath,
    template,
    resolver: new IntrinsicResolver({
      template,
      parameters: options.parameters,
      region: options.region,
      accountId: options.accountId,
      stackName: options.stackName ?? 'local',
    }),
  };
  expandLoops(root, options.warn);
  const nodes: StackNode[] = [];
  await visit(root, [options.templatePath], nodes, options);
  return nodes;
}

async function visit(
  node: StackNode,
  ancestry: string[],
  nodes: StackNode[],
  options: StackTreeOptions,
): Promise<void> {
  nodes.push(node);
  for (const [logicalId, resource] of Object.entries(node.template.Resources ?? {})) {
    const property = NESTED_TEMPLATE_PROPERTY[resource.Type ?? ''];
    if (!property) continue;
    if (resource.Condition && !conditionHolds(node.resolver, resource.Condition)) continue;
    const path = [...node.path, logicalId];
    const label = `nested ${resource.Type === 'AWS::CloudFormation::Stack' ? 'stack' : 'application'} "${path.join('/')}" (${node.templatePath})`;
    const location = childLocation(node, resource, property);
    if ('remote' in location) {
      options.warn(
        `lambda-testkit: ${label}: ${property} ${location.remote}, which cannot be read here; its functions are not loaded. ` +
          `Point ${property} at a local template (sam build writes one per nested application) to load them.`,
      );
      continue;
    }
    const childPath = await templateFile(location.local);
    if (ancestry.includes(childPath) || path.length > MAX_DEPTH) {
      options.warn(
        `lambda-testkit: ${label}: ${childPath} nests itself (${[...ancestry, childPath].join(' → ')}); it is loaded once.`,
      );
      continue;
    }
    let template: CloudFormationTemplate;
    try {
      template = withAssetPaths(await readTemplate(childPath, `template of ${label}`));
    } catch (error) {
      if (!(error instanceof LambdaTestkitError)) throw error;
      options.warn(`lambda-testkit: ${error.message} Its functions are not loaded.`);
      continue;
    }
    const passed = childParameters(node.resolver, resource.Properties?.Parameters);
    const child: StackNode = {
      path,
      templatePath: childPath,
      template,
      resolver: new IntrinsicResolver({
        template,
        parameters: passed.values,
        unresolvedParameters: passed.unresolved,
        region: options.region,
        accountId: options.accountId,
        stackName: options.stackName ?? 'local',
      }),
    };
    expandLoops(child, options.warn);
    await visit(child, [...ancestry, childPath], nodes, options);
  }
}

/** `Fn::ForEach` loops of `Resources`, expanded with the template's own parameters. */
function expandLoops(node: StackNode, warn: (message: string) => void): void {
  const resources = node.template.Resources;
  if (!resources || !Object.keys(resources).some((key) => key.startsWith('Fn::ForEach::'))) return;
  // The resolver reads the same template object: resources made here are known to its `Ref`s.
  node.template.Resources = expandForEach(resources, node.resolver, warn, node.templatePath);
}

/** Where a nested resource's template is: a local path, or why it is not local. */
function childLocation(
  node: StackNode,
  resource: CloudFormationResource,
  property: string,
): { local: string } | { remote: string } {
  const raw = resource.Properties?.[property];
  if (typeof raw === 'object' && raw !== null && 'ApplicationId' in raw) {
    const id = (raw as { ApplicationId?: unknown }).ApplicationId;
    return {
      remote: `is the Serverless Application Repository application ${typeof id === 'string' ? id : shortForm(id)}`,
    };
  }
  let value: unknown;
  try {
    value = node.resolver.resolve(raw);
  } catch (error) {
    if (!(error instanceof UnresolvedReference)) throw error;
    return { remote: `is ${error.reason}` };
  }
  if (typeof value !== 'string' || value === '') return { remote: `is ${JSON.stringify(value ?? null)}` };
  if (/^(?:https?|s3):\/\//i.test(value)) return { remote: `is ${value} (not a local file)` };
  return { local: resolve(dirname(node.templatePath), value.replace(/^file:\/\//, '')) };
}

/**
 * A nested resource's `Parameters`, resolved in the parent: CloudFormation passes strings (a list
 * is joined with commas); a value only a deployment knows is recorded with its reason.
 */
function childParameters(
  resolver: IntrinsicResolver,
  raw: unknown,
): { values: Record<string, string>; unresolved: Record<string, string> } {
  const values: Record<string, string> = {};
  const unresolved: Record<string, string> = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { values, unresolved };
  for (const [name, item] of Object.entries(raw)) {
    try {
      const value = resolver.resolve(item);
      if (value === NO_VALUE) continue;
      values[name] = Array.isArray(value)
        ? value.map(String).join(',')
        : typeof value === 'object' && value !== null
          ? JSON.stringify(value)
          : String(value);
    } catch (error) {
      if (!(error instanceof UnresolvedReference)) throw error;
      unresolved[name] = error.reason;
    }
  }
  return { values, unresolved };
}

/** A resource `Condition` that cannot be evaluated keeps the resource (it may well exist). */
export function conditionHolds(resolver: IntrinsicResolver, condition: string): boolean {
  try {
    return resolver.condition(condition);
  } catch (error) {
    if (error instanceof UnresolvedReference) return true;
    throw error;
  }
}

/**
 * CDK's asset metadata applied as SAM CLI applies it: the property `aws:asset:property` names
 * (`Code`, `Content`, `TemplateURL`, …) becomes the `aws:asset:path` folder or file, relative to
 * the template. Other templates are returned as they are.
 */
export function withAssetPaths(template: CloudFormationTemplate): CloudFormationTemplate {
  for (const resource of Object.values(template.Resources ?? {})) {
    const path = resource.Metadata?.['aws:asset:path'];
    const property = resource.Metadata?.['aws:asset:property'];
    if (typeof path !== 'string' || typeof property !== 'string' || property === '') continue;
    resource.Properties = { ...resource.Properties, [property]: path };
  }
  return template;
}
