/**
 * `LoggingConfig` read from templates: SAM (on a function and in `Globals.Function`, merged key by
 * key) and the CloudFormation property CDK synthesizes, with intrinsics resolved; a value Lambda
 * would refuse fails when the function is resolved, with the same error as a TypeScript declaration.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, loadFunctionSpecs, resolveFunction } from '@lambda-testkit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureRoot, removeFixtureRoots, thrown } from './helpers.ts';

const temporary: string[] = [];
afterAll(async () => {
  await removeFixtureRoots();
  await Promise.all(temporary.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const SAM_TEMPLATE = `
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  AppLevel:
    Type: String
    Default: WARN
Globals:
  Function:
    Runtime: nodejs22.x
    Handler: index.handler
    CodeUri: src/
    LoggingConfig:
      LogFormat: JSON
      SystemLogLevel: WARN
Resources:
  Inherits:
    Type: AWS::Serverless::Function
  Overrides:
    Type: AWS::Serverless::Function
    Properties:
      LoggingConfig:
        ApplicationLogLevel: !Ref AppLevel
        LogGroup: /custom/overrides
  Refused:
    Type: AWS::Serverless::Function
    Properties:
      LoggingConfig:
        LogFormat: Text
        ApplicationLogLevel: DEBUG
`;

async function samRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'ltk-sources-logging-'));
  temporary.push(root);
  await mkdir(join(root, 'src'));
  await writeFile(join(root, 'src', 'index.js'), 'exports.handler = async () => "ok";\n');
  await writeFile(join(root, 'template.yaml'), SAM_TEMPLATE);
  return root;
}

describe('LoggingConfig in a SAM template', () => {
  it("merges Globals.Function's LoggingConfig key by key, resolves intrinsics, keeps LogGroup out of the way", async () => {
    const root = await samRoot();
    const specs = await loadFunctionSpecs({ sam: { template: 'template.yaml' } }, root, { warn: () => {} });
    const byName = Object.fromEntries(specs.map((s) => [s.name, s]));
    expect(byName.Inherits?.loggingConfig).toEqual({ logFormat: 'JSON', systemLogLevel: 'WARN' });
    expect(byName.Overrides?.loggingConfig).toEqual({
      logFormat: 'JSON',
      systemLogLevel: 'WARN',
      applicationLogLevel: 'WARN',
      logGroup: '/custom/overrides',
    });
    const resolved = await resolveFunction(byName.Overrides!, { root });
    expect(resolved.loggingConfig).toEqual({
      logFormat: 'JSON',
      applicationLogLevel: 'WARN',
      systemLogLevel: 'WARN',
    });
    const inherits = await resolveFunction(byName.Inherits!, { root });
    // The defaults of the JSON format; a different configuration is a different deploy.
    expect(inherits.loggingConfig).toEqual({
      logFormat: 'JSON',
      applicationLogLevel: 'INFO',
      systemLogLevel: 'WARN',
    });
    expect(inherits.deployId).not.toBe(resolved.deployId);
  });

  it('a level with the Text format fails as Lambda refuses it, naming the function', async () => {
    const root = await samRoot();
    const specs = await loadFunctionSpecs({ sam: { template: 'template.yaml' } }, root, { warn: () => {} });
    const refused = specs.find((s) => s.name === 'Refused')!;
    const error = await thrown(() => resolveFunction(refused, { root }));
    expect(error.code).toBe(ErrorCodes.LOGGING_CONFIG_INVALID);
    expect(error.message).toMatch(
      /Function "Refused": loggingConfig sets applicationLogLevel and systemLogLevel with the Text log format/,
    ); // SystemLogLevel comes from Globals
  });
});

describe('LoggingConfig in a CDK assembly', () => {
  it('reads the CloudFormation property of a synthesized function', async () => {
    const root = await fixtureRoot('cdk.out');
    const file = join(root, 'OrdersStack.template.json');
    const template = JSON.parse(await readFile(file, 'utf8')) as {
      Resources: Record<string, { Properties: Record<string, unknown> }>;
    };
    // What `new lambda.Function(..., { loggingFormat: JSON, applicationLogLevelV2: ERROR })` synthesizes.
    template.Resources.Orders5B2D8E3A!.Properties.LoggingConfig = {
      LogFormat: 'JSON',
      ApplicationLogLevel: 'ERROR',
      LogGroup: { Ref: 'OrdersLogGroup1234' },
    };
    await writeFile(file, JSON.stringify(template));
    const specs = await loadFunctionSpecs({ region: 'us-west-2', cdk: { assembly: '.' } }, root, {
      warn: () => {},
    });
    const orders = specs.find((s) => s.name === 'OrdersStack/Orders');
    // The log group's Ref names no deployed value here; it is ignored anyway.
    expect(orders?.loggingConfig).toMatchObject({ logFormat: 'JSON', applicationLogLevel: 'ERROR' });
    expect(specs.find((s) => s.name === 'OrdersStack/Ping')?.loggingConfig).toBeUndefined();
  });
});
