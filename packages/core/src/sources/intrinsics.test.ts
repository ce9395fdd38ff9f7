// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation `${…}` placeholders are data here, not JS templates
import { describe, expect, it } from 'vitest';
import { parseTemplate } from './cloudformation-template.ts';
import { IntrinsicResolver, UnresolvedReference } from './intrinsics.ts';

describe('CloudFormation short tags', () => {
  it('turns every short form (scalar, list, map, nested) into the long JSON form', () => {
    const template = parseTemplate(
      [
        'A: !Ref Stage',
        'B: !GetAtt Db.Endpoint.Address',
        'C: !GetAtt [Table, Arn]',
        "D: !Sub '${AWS::Region}-x'",
        'E: !Join [",", [!Ref A, !Select [0, !GetAZs ""]]]',
        'F: !If [IsProd, !Base64 { "Fn::Sub": "x" }, !Ref AWS::NoValue]',
        'G: !And [!Equals [a, b], !Not [!Condition C], !Or [!Condition D]]',
        'H: !FindInMap [M, !Ref AWS::Region, K]',
        'I: !ImportValue shared-vpc',
        'J: !Split [",", "a,b"]',
        'K: !Cidr [10.0.0.0/16, 4, 8]',
      ].join('\n'),
      'template.yaml',
    ) as Record<string, unknown>;
    expect(template).toEqual({
      A: { Ref: 'Stage' },
      B: { 'Fn::GetAtt': ['Db', 'Endpoint.Address'] },
      C: { 'Fn::GetAtt': ['Table', 'Arn'] },
      D: { 'Fn::Sub': '${AWS::Region}-x' },
      E: { 'Fn::Join': [',', [{ Ref: 'A' }, { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }]] },
      F: { 'Fn::If': ['IsProd', { 'Fn::Base64': { 'Fn::Sub': 'x' } }, { Ref: 'AWS::NoValue' }] },
      G: {
        'Fn::And': [
          { 'Fn::Equals': ['a', 'b'] },
          { 'Fn::Not': [{ Condition: 'C' }] },
          { 'Fn::Or': [{ Condition: 'D' }] },
        ],
      },
      H: { 'Fn::FindInMap': ['M', { Ref: 'AWS::Region' }, 'K'] },
      I: { 'Fn::ImportValue': 'shared-vpc' },
      J: { 'Fn::Split': [',', 'a,b'] },
      K: { 'Fn::Cidr': ['10.0.0.0/16', 4, 8] },
    });
  });

  it('rejects a list, a duplicate key and broken syntax with TEMPLATE_INVALID', () => {
    expect(() => parseTemplate('- a\n- b', 't.yaml')).toThrow(/not a CloudFormation template/);
    expect(() => parseTemplate('A: 1\nA: 2', 't.yaml')).toThrow(/Cannot parse the template t\.yaml/);
    expect(() => parseTemplate('{"A": ', 't.json')).toThrow(/Cannot parse the template t\.json/);
  });
});

describe('IntrinsicResolver', () => {
  const resolver = new IntrinsicResolver({
    template: {
      Parameters: {
        Stage: { Type: 'String', Default: 'dev' },
        Subnets: { Type: 'List<String>', Default: 'a, b' },
      },
      Conditions: { IsDev: { 'Fn::Equals': [{ Ref: 'Stage' }, 'dev'] } },
      Resources: { Table: { Type: 'AWS::DynamoDB::Table' } },
    },
    region: 'cn-north-1',
    accountId: '111122223333',
    stackName: 'local',
  });

  it('resolves pseudo parameters, list parameters and conditions', () => {
    expect(resolver.resolve({ Ref: 'AWS::Partition' })).toBe('aws-cn');
    expect(resolver.resolve({ Ref: 'AWS::URLSuffix' })).toBe('amazonaws.com.cn');
    expect(resolver.resolve({ Ref: 'Subnets' })).toEqual(['a', 'b']);
    expect(resolver.resolve({ 'Fn::If': ['IsDev', 1, 2] })).toBe(1);
    expect(resolver.resolve({ 'Fn::Sub': ['${A}/${AWS::AccountId}', { A: { Ref: 'Stage' } }] })).toBe(
      'dev/111122223333',
    );
    expect(resolver.resolve({ X: { Ref: 'AWS::NoValue' }, Y: [1, { Ref: 'AWS::NoValue' }] })).toEqual({
      Y: [1],
    });
  });

  it('throws UnresolvedReference for what only a deployment knows', () => {
    for (const value of [
      { Ref: 'Table' },
      { Ref: 'Nope' },
      { 'Fn::GetAtt': ['Table', 'Arn'] },
      { 'Fn::Sub': '${Table.Arn}' },
      { 'Fn::ImportValue': 'x' },
      { 'Fn::If': ['Unknown', 1, 2] },
    ]) {
      expect(() => resolver.resolve(value)).toThrow(UnresolvedReference);
    }
  });
});
