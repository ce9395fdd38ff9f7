/**
 * A CDK cloud assembly shaped like `cdk synth` output: manifest, stack template with asset
 * metadata, a NodejsFunction-style bundled asset, a layer asset, inline code, and a stage's
 * nested assembly pinned to an account and region.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CdkSourceOptions,
  ErrorCodes,
  type FunctionSpec,
  loadFunctionSpecs,
  resolveFunction,
} from '@lambda-testkit/core';
import { functionNameIndex } from '@lambda-testkit/core/internal';
import { afterAll, describe, expect, it } from 'vitest';
import { collectWarnings, fixtureRoot, removeFixtureRoots, thrown } from './helpers.ts';

afterAll(removeFixtureRoots);

const CODE_ASSET = 'asset.4a1c2f0d8e3b7a9c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c';
const LAYER_ASSET = 'asset.9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0';

async function load(root: string, cdk: Partial<CdkSourceOptions> = {}) {
  const warnings = collectWarnings();
  const specs = await loadFunctionSpecs({ region: 'us-west-2', cdk: { assembly: '.', ...cdk } }, root, {
    warn: warnings.warn,
  });
  const get = (name: string): FunctionSpec => {
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new Error(`no function ${name} in ${specs.map((s) => s.name).join(', ')}`);
    return spec;
  };
  return { specs, get, warnings: warnings.lines };
}

describe('a CDK cloud assembly', () => {
  it('names functions by construct path, nested stage assemblies included', async () => {
    const root = await fixtureRoot('cdk.out');
    const { specs } = await load(root);
    expect(specs.map((s) => s.name)).toEqual([
      'OrdersStack/Orders',
      'OrdersStack/Ping',
      'Prod/OrdersStack/Orders',
    ]);
  });

  it('takes code and layers from asset folders and the other properties from the template', async () => {
    const root = await fixtureRoot('cdk.out');
    const { get } = await load(root);
    expect(get('OrdersStack/Orders')).toMatchObject({
      code: join(root, CODE_ASSET),
      layers: [join(root, LAYER_ASSET)],
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      timeout: 10,
      memorySize: 512,
      architecture: 'arm64',
      environment: {
        REGION_NAME: 'us-west-2', // AWS::Region of an environment-agnostic stack: the config's region
        AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
  });

  it("uses a pinned stack environment, the stack name, and the nested assembly's relative asset path", async () => {
    const root = await fixtureRoot('cdk.out');
    expect((await load(root)).get('Prod/OrdersStack/Orders')).toMatchObject({
      code: join(root, CODE_ASSET),
      runtime: 'nodejs24.x',
      environment: { REGION_NAME: 'eu-west-1', STACK: 'Prod-OrdersStack' },
    });
  });

  it('writes Code.ZipFile inline code as index.js', async () => {
    const root = await fixtureRoot('cdk.out');
    const ping = (await load(root)).get('OrdersStack/Ping');
    expect(ping.code?.startsWith(join(root, 'node_modules', '.cache', 'lambda-testkit', 'inline'))).toBe(
      true,
    );
    const resolved = await resolveFunction(ping, { root });
    expect(resolved.handler).toBe('index.handler');
  });

  it('answers to the full construct path and to logical ids that are unique', async () => {
    const root = await fixtureRoot('cdk.out');
    const { specs, get } = await load(root);
    // Orders5B2D8E3A exists in both stacks: ambiguous, so not an alias.
    expect(get('OrdersStack/Orders').aliases).toEqual(['OrdersStack/Orders/Resource']);
    expect(get('OrdersStack/Ping').aliases).toEqual(['OrdersStack/Ping/Resource', 'Ping9E3B6C1D']);
    const index = functionNameIndex(specs);
    expect(index.get('Ping9E3B6C1D')?.name).toBe('OrdersStack/Ping');
    expect(index.get('Prod/OrdersStack/Orders/Resource')?.name).toBe('Prod/OrdersStack/Orders');
    expect(index.has('Orders5B2D8E3A')).toBe(false);

    // With one stack loaded, the logical id is unique again.
    const one = await load(root, { stacks: ['OrdersStack'] });
    expect(one.get('OrdersStack/Orders').aliases).toContain('Orders5B2D8E3A');
  });

  it('warns once per function about references to deployed resources; overrides fill and silence them', async () => {
    const root = await fixtureRoot('cdk.out');
    const { warnings } = await load(root);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('CDK function "OrdersStack/Orders" (Orders5B2D8E3A');
    expect(warnings[0]).toContain(
      'Environment.Variables.TABLE_NAME (!Ref OrdersTable315BB997 (a AWS::DynamoDB::Table)',
    );
    expect(warnings[0]).toContain('cdk.overrides["OrdersStack/Orders"]');

    const overridden = await load(root, {
      overrides: { Orders5B2D8E3A: { environment: { TABLE_NAME: 'orders-test' }, timeout: 3 } },
      stacks: ['OrdersStack'],
    });
    expect(overridden.warnings).toEqual([]);
    expect(overridden.get('OrdersStack/Orders')).toMatchObject({
      timeout: 3,
      environment: { TABLE_NAME: 'orders-test', REGION_NAME: 'us-west-2' },
    });
  });

  it('filters by stack display name and by function', async () => {
    const root = await fixtureRoot('cdk.out');
    expect((await load(root, { stacks: ['Prod/OrdersStack'] })).specs.map((s) => s.name)).toEqual([
      'Prod/OrdersStack/Orders',
    ]);
    expect((await load(root, { functions: ['Ping9E3B6C1D'] })).specs.map((s) => s.name)).toEqual([
      'OrdersStack/Ping',
    ]);
  });
});

describe('CDK errors', () => {
  it('a missing assembly: TEMPLATE_INVALID naming manifest.json and `cdk synth`', async () => {
    const root = await fixtureRoot('cdk.out');
    const error = await thrown(() => load(root, { assembly: 'infra/cdk.out' }));
    expect(error.code).toBe(ErrorCodes.TEMPLATE_INVALID);
    expect(error.message).toContain(join(root, 'infra', 'cdk.out', 'manifest.json'));
    expect(error.message).toContain('cdk synth');
  });

  it('a missing stack template or asset folder: named with its path', async () => {
    const root = await fixtureRoot('cdk.out');
    await rm(join(root, CODE_ASSET), { recursive: true });
    const asset = await thrown(() => load(root, { stacks: ['OrdersStack'] }));
    expect(asset.code).toBe(ErrorCodes.CODE_NOT_FOUND);
    expect(asset.message).toContain('"OrdersStack/Orders"');
    expect(asset.message).toContain(join(root, CODE_ASSET));

    await rm(join(root, 'OrdersStack.template.json'));
    const template = await thrown(() => load(root));
    expect(template.code).toBe(ErrorCodes.TEMPLATE_INVALID);
    expect(template.message).toContain(join(root, 'OrdersStack.template.json'));
  });

  it('cdk.functions naming a table or nothing: CONFIG_INVALID naming the type and the functions', async () => {
    const root = await fixtureRoot('cdk.out');
    const error = await thrown(() =>
      load(root, { functions: ['OrdersStack/OrdersTable', 'OrdersStack/Nope'] }),
    );
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(error.message).toContain(
      '"OrdersStack/OrdersTable" is a AWS::DynamoDB::Table, which lambda-testkit does not run',
    );
    expect(error.message).toContain('"OrdersStack/Nope" is not in the loaded stacks');
    expect(error.message).toContain('OrdersStack/Orders, OrdersStack/Ping, Prod/OrdersStack/Orders');
  });

  it('an override for no function (a typo): CONFIG_INVALID', async () => {
    const root = await fixtureRoot('cdk.out');
    const error = await thrown(() => load(root, { overrides: { 'OrdersStack/Order': { timeout: 9 } } }));
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(error.message).toContain('cdk.overrides names "OrdersStack/Order"');
  });

  it('an unknown stack: CONFIG_INVALID listing the stacks', async () => {
    const root = await fixtureRoot('cdk.out');
    const error = await thrown(() => load(root, { stacks: ['BillingStack'] }));
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(error.message).toContain('OrdersStack, Prod/OrdersStack');
  });

  async function withFunction(properties: Record<string, unknown>, metadata: Record<string, unknown> = {}) {
    const root = await fixtureRoot('cdk.out');
    await writeFile(
      join(root, 'assembly-Prod', 'ProdOrdersStack7A2C1B9D.template.json'),
      JSON.stringify({
        Resources: {
          Thumbnails1A2B3C4D: {
            Type: 'AWS::Lambda::Function',
            Properties: properties,
            Metadata: { 'aws:cdk:path': 'Prod/OrdersStack/Thumbnails/Resource', ...metadata },
          },
        },
      }),
    );
    return root;
  }

  it('a DockerImageFunction, S3 code without an asset, an unsupported runtime, an unknown handler', async () => {
    const image = await withFunction(
      { PackageType: 'Image', Code: { ImageUri: '123.dkr.ecr.us-east-1.amazonaws.com/thumbs:latest' } },
      {
        'aws:asset:path': 'asset.0000',
        'aws:asset:dockerfile-path': 'Dockerfile',
        'aws:asset:property': 'Code.ImageUri',
      },
    );
    const imageError = await thrown(() => load(image));
    expect(imageError.code).toBe(ErrorCodes.TEMPLATE_INVALID);
    expect(imageError.message).toContain('"Prod/OrdersStack/Thumbnails" (Thumbnails1A2B3C4D');
    expect(imageError.message).toContain('DockerImageFunction');

    const s3 = await withFunction({
      Code: { S3Bucket: 'shared-artifacts', S3Key: 'thumbs.zip' },
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
    });
    const s3Error = await thrown(() => load(s3));
    expect(s3Error.code).toBe(ErrorCodes.CODE_NOT_FOUND);
    expect(s3Error.message).toContain('thumbs.zip');
    expect(s3Error.message).toContain('cdk.overrides["Prod/OrdersStack/Thumbnails"]');

    const runtime = await withFunction(
      { Code: { S3Bucket: 'b', S3Key: 'k.zip' }, Handler: 'index.handler', Runtime: 'nodejs10.x' },
      { 'aws:asset:path': `../${CODE_ASSET}`, 'aws:asset:property': 'Code' },
    );
    const runtimeError = await thrown(() => load(runtime));
    expect(runtimeError.code).toBe(ErrorCodes.UNSUPPORTED_RUNTIME);
    expect(runtimeError.message).toContain('"Prod/OrdersStack/Thumbnails"');

    const handler = await withFunction(
      { Code: { S3Bucket: 'b', S3Key: 'k.zip' }, Handler: 'thumbs.handler', Runtime: 'nodejs22.x' },
      { 'aws:asset:path': `../${CODE_ASSET}`, 'aws:asset:property': 'Code' },
    );
    const handlerError = await thrown(() => load(handler));
    expect(handlerError.code).toBe(ErrorCodes.BAD_HANDLER);
    expect(handlerError.message).toContain('thumbs.js or thumbs.mjs or thumbs.cjs');
  });
});
