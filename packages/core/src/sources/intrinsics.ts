/**
 * Resolving CloudFormation intrinsic functions as far as a local test run can: parameters (given
 * or `Default`), pseudo parameters, `Fn::Sub`/`Join`/`Select`/`Split`/`FindInMap`/`Base64`, and
 * conditions (`Fn::If`, `Equals`, `Not`, `And`, `Or`). What only a deployment knows (resource
 * `Ref`s, `Fn::GetAtt`, `Fn::ImportValue`, `Fn::GetAZs`, …) throws `UnresolvedReference`, which
 * the template readers turn into one warning per function.
 */
import type { CloudFormationTemplate } from './cloudformation-template.ts';

/** A value that only a deployment could provide; `reason` says which reference and why. */
export class UnresolvedReference extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.reason = reason;
  }
}

/** `Ref: AWS::NoValue`: the property is removed, as CloudFormation does. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

export interface IntrinsicContext {
  template: CloudFormationTemplate;
  /** Parameter values given by the user; others use their `Default`. */
  parameters?: Record<string, string>;
  /**
   * Parameters a parent stack passes with values only a deployment knows (a nested stack's
   * `Parameters: { TableName: !Ref Table }`), each with the reason: a `Ref` to one is unresolved,
   * not its `Default`.
   */
  unresolvedParameters?: Record<string, string>;
  region: string;
  accountId: string;
  stackName: string;
}

type Json = unknown;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{ "Fn::GetAtt": ["T", "Arn"] }` → `!GetAtt T.Arn`, for warnings. */
export function shortForm(value: unknown): string {
  if (!isObject(value)) return JSON.stringify(value);
  const [key, arg] = Object.entries(value)[0] ?? ['', undefined];
  const tag = key.startsWith('Fn::') ? key.slice(4) : key;
  if (tag === 'GetAtt' && Array.isArray(arg)) return `!GetAtt ${arg.join('.')}`;
  return `!${tag} ${typeof arg === 'string' ? arg : JSON.stringify(arg)}`;
}

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export class IntrinsicResolver {
  readonly #ctx: IntrinsicContext;

  constructor(context: IntrinsicContext) {
    this.#ctx = context;
  }

  /** Deeply resolves `value`; `NO_VALUE` entries are removed from objects and lists. */
  resolve(value: Json): Json {
    if (Array.isArray(value)) {
      return value.map((v) => this.resolve(v)).filter((v) => v !== NO_VALUE);
    }
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    const only = keys[0];
    if (
      keys.length === 1 &&
      only !== undefined &&
      (only === 'Ref' || only.startsWith('Fn::') || only === 'Condition')
    ) {
      return this.#intrinsic(only, value[only], value);
    }
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      const resolved = this.resolve(v);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }

  /**
   * Chooses the branch of an `Fn::If` (and drops `Ref: AWS::NoValue`) without resolving inside the
   * branch, so one unresolvable value in it does not hide the others: `Environment: !If [IsProd,
   * { Variables: … }, !Ref AWS::NoValue]`. Other values are returned as they are.
   */
  branch(value: Json): Json {
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length !== 1) return value;
    if (keys[0] === 'Ref' && value.Ref === 'AWS::NoValue') return NO_VALUE;
    const arg = value['Fn::If'];
    if (keys[0] !== 'Fn::If' || !Array.isArray(arg)) return value;
    const [condition, whenTrue, whenFalse] = arg;
    return this.branch(this.condition(String(condition)) ? whenTrue : whenFalse);
  }

  /** Evaluates a named condition of the template's `Conditions`. */
  condition(name: string): boolean {
    const conditions = this.#ctx.template.Conditions ?? {};
    if (!(name in conditions))
      throw new UnresolvedReference(`condition "${name}" is not declared in Conditions`);
    return this.#bool(conditions[name]);
  }

  #bool(value: Json): boolean {
    const resolved = this.resolve(value);
    if (typeof resolved === 'boolean') return resolved;
    if (resolved === 'true' || resolved === 'false') return resolved === 'true';
    throw new UnresolvedReference(`condition ${shortForm(value)} is not a boolean`);
  }

  #string(value: Json, what: string): string {
    const resolved = this.resolve(value);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new UnresolvedReference(`${what} ${shortForm(value)} is not a string`);
  }

  #list(value: Json, what: string): Json[] {
    const resolved = this.resolve(value);
    if (Array.isArray(resolved)) return resolved;
    throw new UnresolvedReference(`${what} ${shortForm(value)} is not a list`);
  }

  #intrinsic(key: string, arg: Json, whole: Json): Json {
    switch (key) {
      case 'Ref':
        return this.#ref(String(arg));
      case 'Condition':
        return this.condition(String(arg));
      case 'Fn::Sub':
        return this.#sub(arg);
      case 'Fn::Join': {
        const [delimiter, list] = Array.isArray(arg) ? arg : [];
        return this.#list(list, '!Join list')
          .map((v) => this.#string(v, '!Join item'))
          .join(String(delimiter ?? ''));
      }
      case 'Fn::Select': {
        const [index, list] = Array.isArray(arg) ? arg : [];
        const items = this.#list(list, '!Select list');
        const i = Number(this.resolve(index));
        if (!Number.isInteger(i) || i < 0 || i >= items.length) {
          throw new UnresolvedReference(`!Select index ${String(index)} is outside the list`);
        }
        return items[i];
      }
      case 'Fn::Split': {
        const [delimiter, source] = Array.isArray(arg) ? arg : [];
        return this.#string(source, '!Split source').split(String(delimiter));
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = Array.isArray(arg) ? arg : [];
        const mapName = this.#string(map, '!FindInMap map');
        const topKey = this.#string(top, '!FindInMap key');
        const secondKey = this.#string(second, '!FindInMap key');
        const found = this.#ctx.template.Mappings?.[mapName]?.[topKey]?.[secondKey];
        if (found === undefined) {
          throw new UnresolvedReference(
            `!FindInMap [${mapName}, ${topKey}, ${secondKey}] is not in Mappings`,
          );
        }
        return this.resolve(found);
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = Array.isArray(arg) ? arg : [];
        return this.resolve(this.condition(String(condition)) ? whenTrue : whenFalse);
      }
      case 'Fn::Equals': {
        const [a, b] = Array.isArray(arg) ? arg : [];
        return JSON.stringify(this.resolve(a)) === JSON.stringify(this.resolve(b));
      }
      case 'Fn::Not':
        return !this.#bool(Array.isArray(arg) ? arg[0] : arg);
      case 'Fn::And':
        return (Array.isArray(arg) ? arg : []).every((c) => this.#bool(c));
      case 'Fn::Or':
        return (Array.isArray(arg) ? arg : []).some((c) => this.#bool(c));
      case 'Fn::Base64':
        return Buffer.from(this.#string(arg, '!Base64 input')).toString('base64');
      default:
        // GetAtt, ImportValue, GetAZs, Cidr, Transform, …: known only to a deployment.
        throw new UnresolvedReference(`${shortForm(whole)} is known only after deployment`);
    }
  }

  #ref(name: string): Json {
    const ctx = this.#ctx;
    // Given values win, pseudo parameters included (as `sam local --parameter-overrides`).
    const given = ctx.parameters?.[name];
    if (given !== undefined && !ctx.template.Parameters?.[name]) return given;
    switch (name) {
      case 'AWS::Region':
        return ctx.region;
      case 'AWS::AccountId':
        return ctx.accountId;
      case 'AWS::Partition':
        return partitionOf(ctx.region);
      case 'AWS::URLSuffix':
        return ctx.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
      case 'AWS::StackName':
        return ctx.stackName;
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const parameter = ctx.template.Parameters?.[name];
    const unknown = ctx.unresolvedParameters?.[name];
    if (parameter && unknown !== undefined) {
      throw new UnresolvedReference(`!Ref ${name}: the parent stack passes ${unknown}`);
    }
    if (parameter) {
      // An SSM-typed parameter's Default is the SSM parameter's name; its value lives in AWS.
      const fromSsm = parameter.Type?.startsWith('AWS::SSM::Parameter::Value');
      if (fromSsm && ctx.parameters?.[name] === undefined) {
        throw new UnresolvedReference(
          `!Ref ${name}: an SSM parameter (${String(parameter.Default ?? '')}), read from AWS at deploy time`,
        );
      }
      const value = ctx.parameters?.[name] ?? parameter.Default;
      if (value === undefined) {
        throw new UnresolvedReference(`!Ref ${name}: the parameter has no Default and no value was given`);
      }
      const text = String(value);
      return parameter.Type?.startsWith('List<') || parameter.Type === 'CommaDelimitedList'
        ? text.split(',').map((s) => s.trim())
        : text;
    }
    const resource = ctx.template.Resources?.[name];
    if (resource) {
      throw new UnresolvedReference(
        `!Ref ${name} (a ${resource.Type ?? 'resource'}) is known only after deployment`,
      );
    }
    throw new UnresolvedReference(`!Ref ${name} names no parameter or resource of the template`);
  }

  #sub(arg: Json): string {
    const [text, variables] = Array.isArray(arg) ? arg : [arg, {}];
    if (typeof text !== 'string') throw new UnresolvedReference(`!Sub ${JSON.stringify(arg)} has no string`);
    const vars = isObject(variables) ? variables : {};
    // `${!Literal}` writes `${Literal}`; `${Name}` is a variable, parameter, pseudo parameter or
    // resource; `${Resource.Attr}` is a GetAtt (Fn::Sub documentation).
    return text.replace(/\$\{([^}]*)\}/g, (_match, inner: string) => {
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
      const name = inner.trim();
      if (name in vars) return this.#string(vars[name], `!Sub variable ${name}`);
      if (name.includes('.') && !name.startsWith('AWS::')) {
        const [resource, ...attribute] = name.split('.');
        throw new UnresolvedReference(
          `\${${name}} (!GetAtt ${resource}.${attribute.join('.')}) is known only after deployment`,
        );
      }
      const value = this.#ref(name);
      if (typeof value !== 'string') throw new UnresolvedReference(`\${${name}} is not a string`);
      return value;
    });
  }
}
