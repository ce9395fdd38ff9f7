/**
 * Parsing a YAML CloudFormation/SAM template. YAML templates use CloudFormation's short tags
 * (`!Ref`, `!Sub`, …); the `yaml` package knows none of them, so each tag is declared here for its
 * scalar, sequence and mapping forms and turned into the long JSON form
 * (`!GetAtt A.B` → `{ "Fn::GetAtt": ["A", "B"] }`), which is what JSON templates and CDK write.
 * Tag list: CloudFormation User Guide, "Intrinsic function reference" and "Condition functions".
 *
 * Its own module so that `yaml` loads only when a template is YAML: cloudformation-template.ts
 * imports it dynamically (docs/architecture.md#loading-on-first-use).
 */
import { type CollectionTag, parse, type ScalarTag, type Tags, type YAMLMap, type YAMLSeq } from 'yaml';

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

/** Parses YAML template text into plain data; throws the `yaml` package's error on bad syntax. */
export function parseYamlTemplate(text: string): unknown {
  // `<<: *defaults` merge keys: templates share Environment blocks that way, and CloudFormation's
  // YAML parser merges them (YAML 1.1), where YAML 1.2 would keep a `<<` key.
  return parse(text, { customTags: cloudFormationTags, prettyErrors: true, uniqueKeys: true, merge: true });
}
