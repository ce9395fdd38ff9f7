/**
 * Reading a CloudFormation/SAM template from YAML or JSON. YAML templates use CloudFormation's
 * short tags (`!Ref`, `!Sub`, …); the `yaml` package knows none of them, so each tag is declared
 * here for its scalar, sequence and mapping forms and turned into the long JSON form
 * (`!GetAtt A.B` → `{ "Fn::GetAtt": ["A", "B"] }`), which is what JSON templates and CDK write.
 * Tag list: CloudFormation User Guide, "Intrinsic function reference" and "Condition functions".
 * The `yaml` package loads with the first YAML template (CDK writes JSON, which never needs it).
 */
import { readFile } from 'node:fs/promises';
import type { CollectionTag, ScalarTag, Tags, YAMLMap, YAMLSeq } from 'yaml';
import { ConfigError, ErrorCodes } from '../errors.ts';
import { loadOnFirstUse } from '../load-on-first-use.ts';

/** The parts of a template this library reads. */
export interface CloudFormationTemplate {
  Parameters?: Record<string, { Type?: string; Default?: unknown }>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Conditions?: Record<string, unknown>;
  Globals?: { Function?: Record<string, unknown> };
  Resources?: Record<string, CloudFormationResource>;
}

export interface CloudFormationResource {
  Type?: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  Condition?: string;
}

/** Short tag → long key. `!Ref` and `!Condition` have no `Fn::` prefix. */
const SHORT_TAGS: Record<string, string> = {
  Ref: 'Ref',
  Condition: 'Condition',
  ...Object.fromEntries(
    [
      'Base64',
      'Cidr',
      'FindInMap',
      'GetAtt',
      'GetAZs',
      'ImportValue',
      'Join',
      'Select',
      'Split',
      'Sub',
      'Transform',
      'Length',
      'ToJsonString',
      'And',
      'Equals',
      'If',
      'Not',
      'Or',
    ].map((name) => [name, `Fn::${name}`]),
  ),
};

function scalarValue(tag: string, value: string): unknown {
  // `!GetAtt Resource.Attribute` is the only short form whose scalar is split (at the first dot:
  // attribute names such as `Endpoint.Address` keep theirs).
  if (tag === 'GetAtt') {
    const dot = value.indexOf('.');
    return dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)];
  }
  return value;
}

const cloudFormationTags: Tags = Object.entries(SHORT_TAGS).flatMap(
  ([tag, key]): (ScalarTag | CollectionTag)[] => [
    { tag: `!${tag}`, resolve: (value: string) => ({ [key]: scalarValue(tag, value) }) },
    { tag: `!${tag}`, collection: 'seq', resolve: (seq) => ({ [key]: (seq as YAMLSeq.Parsed).toJSON() }) },
    { tag: `!${tag}`, collection: 'map', resolve: (map) => ({ [key]: (map as YAMLMap.Parsed).toJSON() }) },
  ],
);

/** Parses template text; `.json` files (or text starting with `{`) are parsed as JSON. */
export function parseTemplate(text: string, path: string): CloudFormationTemplate {
  let parsed: unknown;
  try {
    parsed =
      path.endsWith('.json') || text.trimStart().startsWith('{')
        ? JSON.parse(text)
        : // `<<: *defaults` merge keys: templates share Environment blocks that way, and
          // CloudFormation's YAML parser merges them (YAML 1.1), where YAML 1.2 would keep a `<<` key.
          loadOnFirstUse<typeof import('yaml')>('yaml').parse(text, {
            customTags: cloudFormationTags,
            prettyErrors: true,
            uniqueKeys: true,
            merge: true,
          });
  } catch (error) {
    throw new ConfigError(
      ErrorCodes.TEMPLATE_INVALID,
      `Cannot parse the template ${path}: ${(error as Error).message}. Fix the template's syntax (\`sam validate --lint\` helps).`,
      { cause: error, details: { path } },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(
      ErrorCodes.TEMPLATE_INVALID,
      `The template ${path} is not a CloudFormation template: expected a mapping with "Resources", found ${Array.isArray(parsed) ? 'a list' : typeof parsed}.`,
      { details: { path } },
    );
  }
  return parsed as CloudFormationTemplate;
}

/**
 * Reads a source file (template, manifest) as text; an unreadable file fails with TEMPLATE_INVALID
 * naming `what`, the path, the reason and `fix`.
 */
export async function readSourceFile(path: string, what: string, fix: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      ErrorCodes.TEMPLATE_INVALID,
      `Cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. ${fix}`,
      { cause: error, details: { path } },
    );
  }
}

/** Reads and parses a template file; a missing file names the path and what to check. */
export async function readTemplate(path: string, what: string): Promise<CloudFormationTemplate> {
  const text = await readSourceFile(
    path,
    what,
    'Check the path in your lambda-testkit configuration (relative paths start at the root).',
  );
  return parseTemplate(text, path);
}
