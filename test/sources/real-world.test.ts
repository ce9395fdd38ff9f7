/**
 * Templates as teams have them, beyond `sam init`: applications and stacks nested three levels
 * deep, a template in which some functions cannot run here, and the templates `cdk synth` writes
 * given as a SAM template. (Fixtures written for this suite: sam-nested, sam-mixed, cdk-nested.out.)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ErrorCodes,
  type FunctionSpec,
  functionNameIndex,
  loadFunctionSpecs,
  loadFunctions,
  type TestkitConfig,
  unrunnableSummary,
} from '@lambda-testkit/core/internal';
import { afterAll, describe, expect, it } from 'vitest';
import { collectWarnings, fixtureRoot, removeFixtureRoots, thrown } from './helpers.ts';

afterAll(removeFixtureRoots);

async function load(root: string, config: TestkitConfig) {
  const warnings = collectWarnings();
  const loaded = await loadFunctions({ region: 'eu-west-1', ...config }, root, { warn: warnings.warn });
  const get = (name: string): FunctionSpec => {
    const spec = loaded.specs.find((s) => s.name === name);
    if (!spec) throw new Error(`no function ${name} in ${loaded.specs.map((s) => s.name).join(', ')}`);
    return spec;
  };
  return { ...loaded, get, warnings: warnings.lines };
}

describe('nested applications and stacks', () => {
  it('loads the functions of every level, named Parent/Child/Function, by logical id where unique', async () => {
    const root = await fixtureRoot('sam-nested');
    const { specs, unrunnable, templates } = await load(root, { sam: { template: 'template.yaml' } });
    expect(unrunnable).toEqual([]);
    expect(templates).toEqual([
      join(root, 'template.yaml'),
      join(root, 'apps', 'orders', 'template.yaml'),
      join(root, 'apps', 'payments', 'template.yaml'),
    ]);
    expect(specs.map((s) => [s.name, s.aliases ?? []])).toEqual([
      ['RootFunction', []],
      ['OrdersApp/CreateOrder', ['CreateOrder']],
      ['OrdersApp/Health', []], // two functions are called Health: neither takes the bare name
      ['OrdersApp/PaymentsStack/Charge', ['Charge']],
      ['OrdersApp/PaymentsStack/Health', []],
    ]);
    expect(specs.find((s) => s.name === 'OrdersApp/PaymentsStack/Charge')?.code).toBe(
      join(root, 'apps', 'payments', 'charge'),
    );
    const index = functionNameIndex(specs);
    expect(index.get('Charge')?.name).toBe('OrdersApp/PaymentsStack/Charge');
    expect(index.get('Health')).toBeUndefined();
  });

  it("passes parameters down; each template keeps its own Globals; a parent's deployed value is unresolved", async () => {
    const root = await fixtureRoot('sam-nested');
    const { get, warnings } = await load(root, {
      sam: { template: 'template.yaml', parameters: { Stage: 'prod' } },
    });
    expect(get('RootFunction')).toMatchObject({ timeout: 5, environment: { STAGE: 'prod' } });
    const create = get('OrdersApp/CreateOrder');
    // The root's Globals (Timeout 5) do not reach the child, as in CloudFormation.
    expect(create.timeout).toBeUndefined();
    expect(create.environment).toEqual({ STAGE: 'prod', TABLE_NAME: 'prod-orders' });
    expect(get('OrdersApp/PaymentsStack/Charge').environment).toEqual({
      PREFIX: 'prod-pay', // !Sub in the middle template, from the root's Stage
      FIRST_CURRENCY: 'EUR', // a list passed as a comma-joined string, split again by the child
    });
    const queue = warnings.find((w) => w.includes('"OrdersApp/CreateOrder"'));
    expect(queue).toContain(
      'Environment.Variables.QUEUE_URL (!Ref QueueUrl: the parent stack passes !GetAtt OrdersQueue.QueueUrl is known only after deployment)',
    );
    expect(queue).toContain('sam.overrides["OrdersApp/CreateOrder"]');
  });

  it('warns once for each nested template that cannot be read here, and loads the rest', async () => {
    const root = await fixtureRoot('sam-nested');
    const dev = await load(root, { sam: { template: 'template.yaml' } });
    const nested = dev.warnings.filter((w) => w.startsWith('lambda-testkit: nested'));
    expect(nested).toHaveLength(2); // ReportsApp's Condition is false for dev: not read at all
    expect(nested[0]).toContain('nested application "AuthApp"');
    expect(nested[0]).toContain(
      'the Serverless Application Repository application arn:aws:serverlessrepo:us-east-1:123456789012:applications/cognito-auth',
    );
    expect(nested[1]).toContain('nested stack "LegacyStack"');
    expect(nested[1]).toContain('https://s3.amazonaws.com/my-bucket/legacy.yaml (not a local file)');

    const prod = await load(root, { sam: { template: 'template.yaml', parameters: { Stage: 'prod' } } });
    const missing = prod.warnings.find((w) => w.includes('"ReportsApp"'));
    expect(missing).toContain(join(root, 'apps', 'does-not-exist', 'template.yaml'));
    expect(missing).toContain('Its functions are not loaded');
    expect(prod.specs).toHaveLength(5);
  });

  it('selects and overrides nested functions by full name or unique logical id', async () => {
    const root = await fixtureRoot('sam-nested');
    const { specs } = await load(root, {
      sam: {
        template: 'template.yaml',
        functions: ['Charge', 'OrdersApp/Health'],
        overrides: { Charge: { timeout: 20 }, 'OrdersApp/Health': { memorySize: 1024 } },
      },
    });
    expect(specs.map((s) => [s.name, s.timeout, s.memorySize])).toEqual([
      ['OrdersApp/Health', undefined, 1024],
      ['OrdersApp/PaymentsStack/Charge', 20, undefined],
    ]);
    const ambiguous = await thrown(() =>
      load(root, { sam: { template: 'template.yaml', functions: ['Health'] } }),
    );
    expect(ambiguous.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(ambiguous.message).toContain('OrdersApp/PaymentsStack/Health');
    const override = await thrown(() =>
      load(root, { sam: { template: 'template.yaml', overrides: { Health: { timeout: 1 } } } }),
    );
    expect(override.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(override.message).toContain('sam.overrides names "Health"');
  });

  it('reads a template that nests itself once, with a warning', async () => {
    const root = await fixtureRoot('sam-nested');
    await writeFile(
      join(root, 'apps', 'payments', 'template.yaml'),
      `${await readFile(join(root, 'apps', 'payments', 'template.yaml'), 'utf8')}
  Again:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: ../orders/template.yaml
`,
    );
    const { specs, warnings } = await load(root, { sam: { template: 'template.yaml' } });
    expect(specs).toHaveLength(5);
    expect(warnings.find((w) => w.includes('nests itself'))).toContain('"OrdersApp/PaymentsStack/Again"');
  });
});

describe('a template in which some functions cannot run here', () => {
  it('loads every function that can run and lists the others with their code and reason', async () => {
    const root = await fixtureRoot('sam-mixed');
    const { specs, unrunnable, warnings } = await load(root, { sam: { template: 'template.yaml' } });
    expect(specs.map((s) => s.name)).toEqual([
      'HelloFunction',
      'WorkerFunction',
      'InlinePythonFunction',
      'ordersHandler', // Fn::ForEach over a CommaDelimitedList parameter
      'paymentsHandler',
    ]);
    expect(specs[4]).toMatchObject({
      code: join(root, 'handlers', 'payments'),
      environment: { HANDLER_NAME: 'payments' },
    });
    expect(unrunnable.map((u) => [u.name, u.error.code])).toEqual([
      ['LegacyGoFunction', ErrorCodes.UNSUPPORTED_RUNTIME],
      ['ArchivedFunction', ErrorCodes.TEMPLATE_INVALID],
      ['PipelineFunction', ErrorCodes.TEMPLATE_INVALID],
      ['ImageFunction', ErrorCodes.TEMPLATE_INVALID],
      ['GoFunction', ErrorCodes.CODE_NOT_FOUND],
      ['BuiltOnlyFunction', ErrorCodes.CODE_NOT_FOUND],
    ]);
    const reasons = Object.fromEntries(unrunnable.map((u) => [u.name, u.reason]));
    expect(reasons).toEqual({
      LegacyGoFunction: 'runtime go1.x is retired',
      ArchivedFunction: expect.stringContaining('no usable code (CodeUri ({"Bucket":"my-artifacts"'),
      PipelineFunction: 'no usable code',
      ImageFunction: 'a container image (PackageType: Image)',
      GoFunction: 'no bootstrap executable: the code is not built',
      BuiltOnlyFunction: expect.stringContaining(join(root, '.aws-sam', 'build', 'BuiltOnlyFunction')),
    });
    // Environment: !If [IsProd, {…}, {…}] picks its branch; each variable resolves on its own.
    expect(specs[2]?.environment).toEqual({ MODE: 'local' });
    const prod = await load(root, { sam: { template: 'template.yaml', parameters: { Stage: 'prod' } } });
    expect(prod.get('InlinePythonFunction').environment).toEqual({ MODE: 'production' });
    expect(prod.warnings.join('\n')).toContain('Environment.Variables.TOKEN (!GetAtt Secrets.Token');
    // YAML merge keys (`<<: *shared`) merge, as CloudFormation reads them.
    expect(specs[0]?.environment).toEqual({ SERVICE: 'shop', LOG_LEVEL: 'info' });
    expect(specs[1]?.environment).toEqual({ SERVICE: 'shop', LOG_LEVEL: 'debug' });
    // A layer list given by a parameter is resolved: its ARNs are named, not silently dropped.
    expect(warnings.join('\n')).toContain(
      'Layers[0] (layer arn:aws:lambda:us-east-1:123456789012:layer:tools:3 is published in AWS',
    );
  });

  it('each error says why and what to set, for the invoke that reaches it', async () => {
    const root = await fixtureRoot('sam-mixed');
    const { unrunnable } = await load(root, { sam: { template: 'template.yaml' } });
    const error = (name: string) => unrunnable.find((u) => u.name === name)?.error;
    expect(error('LegacyGoFunction')?.message).toContain(
      'Function "LegacyGoFunction" was left out when its template was loaded: it cannot run here.',
    );
    expect(error('LegacyGoFunction')?.message).toContain('Move the function to provided.al2023');
    expect(error('LegacyGoFunction')?.message).toContain('sam.overrides.LegacyGoFunction');
    expect(error('PipelineFunction')?.message).toContain(
      'has no usable code. Declare it in the template, or set it in sam.overrides.PipelineFunction',
    );
    expect(error('GoFunction')?.message).toContain('sam build');
    expect(error('ImageFunction')?.details).toMatchObject({ function: 'ImageFunction', leftOut: true });
  });

  it('sums them up in one line', async () => {
    const root = await fixtureRoot('sam-mixed');
    const { unrunnable } = await load(root, { sam: { template: 'template.yaml' } });
    const line = unrunnableSummary(unrunnable) ?? '';
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(
      /^6 functions cannot run here and were left out: LegacyGoFunction \(LTK_UNSUPPORTED_RUNTIME: runtime go1\.x is retired\); ArchivedFunction/,
    );
    expect(unrunnableSummary([])).toBeUndefined();
  });

  it('an override makes such a function run; the strict loadFunctionSpecs fails on the first other', async () => {
    const root = await fixtureRoot('sam-mixed');
    const { get, unrunnable } = await load(root, {
      sam: {
        template: 'template.yaml',
        overrides: {
          PipelineFunction: { code: 'worker' },
          LegacyGoFunction: { runtime: 'nodejs22.x', code: 'hello', handler: 'app.handler' },
        },
      },
    });
    expect(get('PipelineFunction').code).toBe(join(root, 'worker'));
    expect(get('LegacyGoFunction').runtime).toBe('nodejs22.x');
    expect(unrunnable.map((u) => u.name)).not.toContain('PipelineFunction');

    const strict = await thrown(() =>
      loadFunctionSpecs({ sam: { template: 'template.yaml' } }, root, { warn: () => {} }),
    );
    expect(strict.code).toBe(ErrorCodes.UNSUPPORTED_RUNTIME);
    expect(strict.message).toContain('SAM function "LegacyGoFunction"');
  });

  it('expands Fn::ForEach with the given parameters; a loop over a deployed value is named in a warning', async () => {
    const root = await fixtureRoot('sam-mixed');
    const given = await load(root, {
      sam: { template: 'template.yaml', parameters: { HandlerNames: 'orders' } },
    });
    expect(given.specs.map((s) => s.name)).toContain('ordersHandler');
    expect(given.specs.map((s) => s.name)).not.toContain('paymentsHandler');

    const path = join(root, 'template.yaml');
    await writeFile(
      path,
      (await readFile(path, 'utf8')).replace('- !Ref HandlerNames', '- !GetAtt Names.List'),
    );
    const { specs, warnings } = await load(root, { sam: { template: 'template.yaml' } });
    expect(specs.map((s) => s.name)).not.toContain('ordersHandler');
    expect(warnings.join('\n')).toContain(
      'Fn::ForEach::Handlers in ' +
        path +
        ': its collection !GetAtt Names.List is known only after deployment',
    );
  });

  it('the functions map stays strict: its own missing code fails the load', async () => {
    const root = await fixtureRoot('sam-mixed');
    const error = await thrown(() =>
      load(root, {
        functions: { mine: { runtime: 'nodejs22.x', handler: 'index.handler', code: 'nowhere' } },
        sam: { template: 'template.yaml' },
      }),
    );
    expect(error.code).toBe(ErrorCodes.CODE_NOT_FOUND);
    expect(error.message).toContain('Function "mine"');
  });
});

describe('templates cdk synth wrote, given as sam.template', () => {
  it('takes code and layers from the asset metadata, as SAM CLI does', async () => {
    const root = await fixtureRoot('cdk.out');
    const { specs, get, unrunnable } = await load(root, { sam: { template: 'OrdersStack.template.json' } });
    expect(unrunnable).toEqual([]);
    expect(specs.map((s) => [s.name, s.aliases])).toEqual([
      ['Orders5B2D8E3A', ['OrdersStack/Orders']],
      ['Ping9E3B6C1D', ['OrdersStack/Ping']],
    ]);
    expect(get('Orders5B2D8E3A')).toMatchObject({
      code: join(root, 'asset.4a1c2f0d8e3b7a9c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c'),
      layers: [join(root, 'asset.9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0')],
      handler: 'index.handler',
      architecture: 'arm64',
    });
  });

  it('follows a CDK nested stack (TemplateURL from asset metadata), both through sam.template and cdk.assembly', async () => {
    const root = await fixtureRoot('cdk-nested.out');
    const asSam = await load(root, { sam: { template: 'ShopStack.template.json' } });
    expect(asSam.specs.map((s) => [s.name, s.aliases])).toEqual([
      ['Catalog1F2E3D4C', ['ShopStack/Catalog']],
      [
        'BillingNestedStackBillingNestedStackResource5A6B7C8D/Invoice9A8B7C6D',
        ['Invoice9A8B7C6D', 'ShopStack/Billing/Invoice'],
      ],
    ]);
    const invoice = asSam.specs[1];
    expect(invoice?.code).toBe(
      join(root, 'asset.2222222222222222222222222222222222222222222222222222222222222222'),
    );
    expect(invoice?.environment).toEqual({ CURRENCY: 'EUR' });
    expect(asSam.warnings.join('\n')).toContain(
      'CATALOG_FUNCTION (!Ref referencetoShopStackCatalog1F2E3D4CRef: the parent stack passes !Ref Catalog1F2E3D4C',
    );

    const asCdk = await load(root, { cdk: { assembly: '.' } });
    expect(asCdk.specs.map((s) => s.name)).toEqual(['ShopStack/Catalog', 'ShopStack/Billing/Invoice']);
    expect(asCdk.get('ShopStack/Billing/Invoice')).toMatchObject({
      code: invoice?.code,
      environment: { CURRENCY: 'EUR' },
      aliases: ['ShopStack/Billing/Invoice/Resource', 'Invoice9A8B7C6D'],
    });
    expect(asCdk.get('ShopStack/Catalog').environment).toEqual({ STACK: 'ShopStack' });
  });
});
