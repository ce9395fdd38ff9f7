/**
 * `Fn::ForEach` of the `AWS::LanguageExtensions` transform, expanded in `Resources` before the
 * functions are read (SAM CLI expands it for local runs too). Templates that declare one function
 * per item of a list would otherwise have none:
 *
 * ```yaml
 * Fn::ForEach::Handlers:
 *   - Name                       # identifier
 *   - [Orders, Payments]         # collection (or !Ref of a CommaDelimitedList parameter)
 *   - ${Name}Function:           # output key; &{Name} keeps only letters and digits
 *       Type: AWS::Serverless::Function
 *       Properties: { CodeUri: !Sub 'src/${Name}', Environment: { Variables: { NAME: !Ref Name } } }
 * ```
 *
 * Rules: CloudFormation User Guide, "Fn::ForEach" (AWS::LanguageExtensions transform).
 */
import type { CloudFormationResource } from './cloudformation-template.ts';
import { type IntrinsicResolver, UnresolvedReference } from './intrinsics.ts';

const PREFIX = 'Fn::ForEach::';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `${Name}` and `&{Name}` (letters and digits only) in `text`. */
function substituteText(text: string, identifier: string, value: string): string {
  return text
    .replaceAll(`\${${identifier}}`, value)
    .replaceAll(`&{${identifier}}`, value.replace(/[^A-Za-z0-9]/g, ''));
}

/** The fragment with the identifier replaced: `Ref: Name`, and `${Name}` in keys and strings. */
function substitute(value: unknown, identifier: string, item: string): unknown {
  if (typeof value === 'string') return substituteText(value, identifier, item);
  if (Array.isArray(value)) return value.map((v) => substitute(v, identifier, item));
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === 'Ref' && value.Ref === identifier) return item;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[substituteText(key, identifier, item)] = substitute(inner, identifier, item);
  }
  return out;
}

/**
 * Expands every `Fn::ForEach::*` key of `entries` (nested loops included); `warn` gets one line per
 * loop that cannot be expanded here (a collection only a deployment knows).
 */
export function expandForEach(
  entries: Record<string, unknown>,
  resolver: IntrinsicResolver,
  warn: (message: string) => void,
  where: string,
): Record<string, CloudFormationResource> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entries)) {
    if (!key.startsWith(PREFIX)) {
      out[key] = value;
      continue;
    }
    const [identifier, collection, fragment] = Array.isArray(value) ? value : [];
    if (typeof identifier !== 'string' || !isObject(fragment)) {
      warn(`lambda-testkit: ${key} in ${where} is not [identifier, collection, fragment]; it is left out.`);
      continue;
    }
    let items: unknown;
    try {
      items = resolver.resolve(collection);
    } catch (error) {
      if (!(error instanceof UnresolvedReference)) throw error;
      warn(
        `lambda-testkit: ${key} in ${where}: its collection ${error.reason}; the resources it makes are left out.`,
      );
      continue;
    }
    if (!Array.isArray(items)) {
      warn(
        `lambda-testkit: ${key} in ${where}: its collection is not a list; the resources it makes are left out.`,
      );
      continue;
    }
    for (const item of items) {
      const expanded = substitute(fragment, identifier, String(item)) as Record<string, unknown>;
      Object.assign(out, expandForEach(expanded, resolver, warn, where));
    }
  }
  return out as Record<string, CloudFormationResource>;
}
