/**
 * A SAM template shaped like `sam init`'s TypeScript quick start, grown with what real templates
 * carry: Globals, a local layer, esbuild metadata, parameters, mappings, conditions, intrinsic
 * functions, a plain AWS::Lambda::Function with a published layer, inline Python code.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ErrorCodes,
  type FunctionSpec,
  loadFunctionSpecs,
  resolveFunction,
  type SamSourceOptions,
  type TestkitConfig,
} from '@lambda-testkit/core';
import { functionNameIndex } from '@lambda-testkit/core/internal';
import { afterAll, describe, expect, it } from 'vitest';
import { collectWarnings, fixtureRoot, removeFixtureRoots, thrown } from './helpers.ts';

afterAll(removeFixtureRoots);

async function load(root: string, sam: Partial<SamSourceOptions> = {}, extra: TestkitConfig = {}) {
  const warnings = collectWarnings();
  const specs = await loadFunctionSpecs(
    { region: 'eu-central-1', ...extra, sam: { template: 'template.yaml', ...sam } },
    root,
    { warn: warnings.warn },
  );
  const byName = new Map(specs.map((s) => [s.name, s]));
  const get = (name: string): FunctionSpec => {
    const spec = byName.get(name);
    if (!spec) throw new Error(`no function ${name} in ${[...byName.keys()].join(', ')}`);
    return spec;
  };
  return { specs, get, warnings: warnings.lines };
}

describe('a SAM template', () => {
  it('names functions by logical id, skips those whose Condition is false, ignores other resources', async () => {
    const root = await fixtureRoot('sam-app');
    const { specs } = await load(root);
    expect(specs.map((s) => s.name)).toEqual(['CreateOrderFunction', 'ListOrdersFunction', 'ReportFunction']);
  });

  it('merges Globals, resolves intrinsics and bundles the esbuild entry', async () => {
    const root = await fixtureRoot('sam-app');
    const { get } = await load(root);
    const create = get('CreateOrderFunction');
    expect(create).toMatchObject({
      runtime: 'nodejs22.x', // Globals
      timeout: 15, // own value wins over Globals
      memorySize: 256, // Globals
      architecture: 'x86_64',
      handler: 'index.lambdaHandler', // app.lambdaHandler, bundled to index
      aliases: ['test-create-order'], // !Sub '${Stage}-create-order'
      layers: [join(root, 'layers', 'shared')],
    });
    expect(create.environment).toEqual({
      STAGE: 'test',
      POWERTOOLS_SERVICE_NAME: 'orders',
      LOG_LEVEL: 'DEBUG',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's ${!Literal} escape writes this literally
      REGION_LABEL: 'eu-central-1-test-${Literal}',
      API_URL: 'http://localhost:3000',
      FIRST_ORIGIN: 'http://localhost:3000',
      ENCODED: Buffer.from('hello').toString('base64'),
      PARTITION: 'arn:aws:s3:::orders-123456789012',
      NOT_PROD: 'yes',
      NODE_OPTIONS: '--enable-source-maps',
    });
    const bundle = await readFile(join(create.code ?? '', 'index.js'), 'utf8');
    expect(bundle).toContain('require("shared-greeting")'); // BuildProperties.External
    expect(bundle).toContain('item.price * item.quantity'); // lib/total.ts inlined
  });

  it('reads AWS::Lambda::Function code, Architectures, EphemeralStorage and a plain environment', async () => {
    const root = await fixtureRoot('sam-app');
    const { get } = await load(root);
    expect(get('ListOrdersFunction')).toMatchObject({
      code: join(root, 'list-orders'),
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      timeout: 5,
      memorySize: 512,
      ephemeralStorage: 2048,
      architecture: 'arm64',
      layers: [],
      environment: { TABLE_NAME: 'orders-local' },
    });
  });

  it('writes inline code as index.py for Python', async () => {
    const root = await fixtureRoot('sam-app');
    const report = (await load(root)).get('ReportFunction');
    expect(report.runtime).toBe('python3.13');
    expect(await readFile(join(report.code ?? '', 'index.py'), 'utf8')).toContain(
      'def handler(event, context)',
    );
  });

  it('warns once per function, naming each unresolved property and the override to use', async () => {
    const root = await fixtureRoot('sam-app');
    const { warnings } = await load(root);
    expect(warnings).toHaveLength(2);
    const [create, list] = warnings;
    expect(create).toContain('SAM function "CreateOrderFunction"');
    expect(create).toContain('Environment.Variables.TABLE_NAME (!Ref OrdersTable (a AWS::DynamoDB::Table)');
    expect(create).toContain('Environment.Variables.TABLE_ARN (!GetAtt OrdersTable.Arn');
    expect(create).toContain('Environment.Variables.API_KEY (!Ref ApiKeyParameter: an SSM parameter');
    expect(create).toContain('sam.overrides.CreateOrderFunction');
    expect(list).toContain('SAM function "ListOrdersFunction"');
    expect(list).toContain(
      'Layers[0] (layer arn:aws:lambda:us-east-1:094274105915:layer:AWSLambdaPowertoolsTypeScriptV2:24',
    );
  });

  it('warns about a layer sam build would install (BuildMethod nodejs*) whose folder has no nodejs/', async () => {
    const root = await fixtureRoot('sam-app');
    await mkdir(join(root, 'layers', 'deps'), { recursive: true });
    await writeFile(join(root, 'layers', 'deps', 'package.json'), '{"dependencies":{"ms":"2.1.3"}}');
    const path = join(root, 'template.yaml');
    await writeFile(
      path,
      (await readFile(path, 'utf8')).replace(
        '      RetentionPolicy: Delete\n',
        '      RetentionPolicy: Delete\n    Metadata:\n      BuildMethod: nodejs22.x\n',
      ),
    );
    // The fixture's layer has nodejs/node_modules already: used as it is, no warning about it.
    const built = await load(root);
    expect(built.get('CreateOrderFunction').layers).toEqual([join(root, 'layers', 'shared')]);
    expect(built.warnings.join('\n')).not.toContain('SharedLayer');

    await writeFile(
      path,
      (await readFile(path, 'utf8')).replace('ContentUri: layers/shared/', 'ContentUri: layers/deps/'),
    );
    const { get, warnings } = await load(root);
    expect(get('CreateOrderFunction').layers).toEqual([]);
    expect(warnings[0]).toContain(
      'Layers[0] (layer SharedLayer is built by sam build (BuildMethod: nodejs22.x)',
    );
    expect(warnings[0]).toContain(`${join(root, 'layers', 'deps')} has no nodejs/ folder`);
  });

  it('applies overrides (by logical id or FunctionName): environment merged, the rest replaced; silences their warnings', async () => {
    const root = await fixtureRoot('sam-app');
    const { get, warnings } = await load(root, {
      overrides: {
        'test-create-order': {
          environment: { TABLE_NAME: 'orders-test', TABLE_ARN: 'arn:aws:dynamodb:local', API_KEY: 'k' },
          timeout: 30,
        },
        ListOrdersFunction: { layers: [], memorySize: 1024 },
      },
    });
    const create = get('CreateOrderFunction');
    expect(create.timeout).toBe(30);
    expect(create.environment).toMatchObject({
      TABLE_NAME: 'orders-test',
      STAGE: 'test',
      LOG_LEVEL: 'DEBUG',
    });
    expect(get('ListOrdersFunction').memorySize).toBe(1024);
    expect(warnings).toEqual([]);
  });

  it('overrides the image (and architecture) a function runs in, through to the resolved function', async () => {
    const root = await fixtureRoot('sam-app');
    const { get } = await load(root, {
      overrides: {
        ListOrdersFunction: { image: 'my-registry/nodejs-with-tools:22', architecture: 'x86_64' },
      },
    });
    const list = get('ListOrdersFunction');
    expect(list).toMatchObject({ image: 'my-registry/nodejs-with-tools:22', architecture: 'x86_64' });
    const resolved = await resolveFunction(list, { root });
    expect(resolved.image).toBe('my-registry/nodejs-with-tools:22');
    expect(resolved.architecture).toBe('x86_64'); // the template says arm64
    expect(get('CreateOrderFunction').image).toBeUndefined();
  });

  it('takes parameter values: conditions, mappings and names follow them', async () => {
    const root = await fixtureRoot('sam-app');
    const { get, specs } = await load(root, {
      parameters: { Stage: 'prod', ApiKeyParameter: 'secret-from-test' },
    });
    expect(specs.map((s) => s.name)).toContain('ProdAlarmFunction');
    // No EntryPoints: SAM bundles the handler's file (app.ts); Minify defaults to true.
    const alarm = get('ProdAlarmFunction');
    expect(alarm.handler).toBe('index.lambdaHandler');
    const minified = await readFile(join(alarm.code ?? '', 'index.js'), 'utf8');
    expect(minified.split('\n').length).toBeLessThan(5);
    const create = get('CreateOrderFunction');
    expect(create.aliases).toEqual(['prod-create-order']);
    expect(create.environment).toMatchObject({
      LOG_LEVEL: 'WARN',
      API_URL: 'https://api.example.com',
      API_KEY: 'secret-from-test',
    });
    expect(create.environment?.NOT_PROD).toBeUndefined(); // !Ref AWS::NoValue
  });

  it('loads only sam.functions, and every name and alias finds its function', async () => {
    const root = await fixtureRoot('sam-app');
    const { specs } = await load(root, { functions: ['CreateOrderFunction'] });
    expect(specs.map((s) => s.name)).toEqual(['CreateOrderFunction']);
    const index = functionNameIndex(specs);
    expect(index.get('test-create-order')?.name).toBe('CreateOrderFunction');
  });

  it('produces specs the pool resolves (zip bytes and deploy ids)', async () => {
    const root = await fixtureRoot('sam-app');
    const { specs } = await load(root);
    const resolved = await Promise.all(specs.map((s) => resolveFunction(s, { root })));
    // SAM adds list-valued Globals to the function's own list: ReportFunction's `Layers: []` too.
    expect(resolved.map((f) => f.layers.length)).toEqual([1, 0, 1]);
    expect(new Set(resolved.map((f) => f.deployId)).size).toBe(3);
  });

  it('reads a template `sam build` wrote: esbuild Metadata kept, CodeUri holding the built JavaScript', async () => {
    const root = await fixtureRoot('sam-app');
    const build = join(root, '.aws-sam', 'build');
    await mkdir(join(build, 'CreateOrderFunction'), { recursive: true });
    await writeFile(join(build, 'CreateOrderFunction', 'app.js'), 'exports.lambdaHandler = async () => 1;\n');
    const template = await readFile(join(root, 'template.yaml'), 'utf8');
    await mkdir(join(build, 'SharedLayer', 'nodejs'), { recursive: true });
    await writeFile(
      join(build, 'template.yaml'),
      template
        .replace('CodeUri: orders/', 'CodeUri: CreateOrderFunction')
        .replace('ContentUri: layers/shared/', 'ContentUri: SharedLayer'),
    );
    const { specs } = await load(root, {
      template: '.aws-sam/build/template.yaml',
      functions: ['CreateOrderFunction'],
    });
    expect(specs[0]).toMatchObject({
      code: join(build, 'CreateOrderFunction'),
      handler: 'app.lambdaHandler',
    });
  });

  it('accepts the template folder and a JSON template', async () => {
    const root = await fixtureRoot('sam-app');
    expect((await load(root, { template: '.' })).specs).toHaveLength(3);
    await writeFile(
      join(root, 'template.json'),
      JSON.stringify({
        Resources: {
          Hello: {
            Type: 'AWS::Serverless::Function',
            Properties: { CodeUri: 'list-orders', Handler: 'index.handler', Runtime: 'nodejs24.x' },
          },
        },
      }),
    );
    const { specs } = await load(root, { template: 'template.json' });
    expect(specs).toMatchObject([{ name: 'Hello', runtime: 'nodejs24.x', code: join(root, 'list-orders') }]);
  });
});

describe('SAM esbuild BuildProperties', () => {
  /** A one-function template.json whose esbuild Metadata is `build`, code in `queries/`. */
  async function queriesApp(build: Record<string, unknown>) {
    const root = await fixtureRoot('sam-app');
    await mkdir(join(root, 'queries'), { recursive: true });
    await writeFile(join(root, 'queries', 'find.sql'), 'select * from orders');
    await writeFile(
      join(root, 'queries', 'app.ts'),
      "import query from './find.sql';\nexport const handler = async () => ({ query });\n",
    );
    await writeFile(
      join(root, 'template.json'),
      JSON.stringify({
        Transform: 'AWS::Serverless-2016-10-31',
        Resources: {
          QueryFunction: {
            Type: 'AWS::Serverless::Function',
            Properties: { CodeUri: 'queries/', Handler: 'app.handler', Runtime: 'nodejs22.x' },
            Metadata: { BuildMethod: 'esbuild', BuildProperties: build },
          },
        },
      }),
    );
    return root;
  }

  it('maps Loader, Format: esm and Minify to the bundle', async () => {
    const root = await queriesApp({
      Loader: ['.sql=text'],
      Format: 'esm',
      Minify: false,
      EntryPoints: ['app.ts'],
    });
    const { specs } = await load(root, { template: 'template.json' });
    const code = await readFile(join(specs[0]?.code ?? '', 'index.mjs'), 'utf8');
    expect(code).toContain('select * from orders'); // the .sql file inlined as text
    expect(code).toMatch(/export\s*\{/);
    expect(code.split('\n').length).toBeGreaterThan(5); // Minify: false
  });

  it('a Loader item esbuild cannot use: TEMPLATE_INVALID naming the function and the item', async () => {
    const root = await queriesApp({ Loader: ['.sql=sql'] });
    const error = await thrown(() => load(root, { template: 'template.json' }));
    expect(error.code).toBe(ErrorCodes.TEMPLATE_INVALID);
    expect(error.message).toContain('SAM function "QueryFunction"');
    expect(error.message).toContain('Loader item ".sql=sql"');
  });

  it('an entry point that is not there (and no built JavaScript): CODE_NOT_FOUND naming it', async () => {
    const root = await queriesApp({ Loader: ['.sql=text'], EntryPoints: ['main.ts'] });
    const error = await thrown(() => load(root, { template: 'template.json' }));
    expect(error.code).toBe(ErrorCodes.CODE_NOT_FOUND);
    expect(error.message).toContain('SAM function "QueryFunction"');
    expect(error.message).toContain(`entry point main.ts is not in ${join(root, 'queries')}`);
    expect(error.message).toContain('EntryPoints');

    const noSource = await queriesApp({ Loader: ['.sql=text'] });
    const template = join(noSource, 'template.json');
    await writeFile(template, (await readFile(template, 'utf8')).replace('app.handler', 'find.handler'));
    const byHandler = await thrown(() => load(noSource, { template: 'template.json' }));
    expect(byHandler.code).toBe(ErrorCodes.CODE_NOT_FOUND);
    expect(byHandler.message).toContain('find.ts or find.mts or find.js');
  });

  it('an export the entry lacks: BAD_HANDLER naming the entry file', async () => {
    const root = await queriesApp({ Loader: ['.sql=text'], EntryPoints: ['app.ts'] });
    const template = join(root, 'template.json');
    await writeFile(template, (await readFile(template, 'utf8')).replace('app.handler', 'app.lambdaHandler'));
    const error = await thrown(() => load(root, { template: 'template.json' }));
    expect(error.code).toBe(ErrorCodes.BAD_HANDLER);
    expect(error.message).toContain(
      `"lambdaHandler", which ${join(root, 'queries', 'app.ts')} does not export`,
    );
  });
});

describe('SAM errors', () => {
  async function withTemplate(edit: (text: string) => string) {
    const root = await fixtureRoot('sam-app');
    const path = join(root, 'template.yaml');
    await writeFile(path, edit(await readFile(path, 'utf8')));
    return root;
  }

  it('a missing template: TEMPLATE_INVALID with its path', async () => {
    const root = await fixtureRoot('sam-app');
    const error = await thrown(() => load(root, { template: 'infra/template.yaml' }));
    expect(error.code).toBe(ErrorCodes.TEMPLATE_INVALID);
    expect(error.message).toContain(join(root, 'infra', 'template.yaml'));
    expect(error.message).toContain('ENOENT');
  });

  it('a template that is not YAML: TEMPLATE_INVALID with the position', async () => {
    const root = await withTemplate((t) => `${t}\n  bad: [unclosed\n`);
    const error = await thrown(() => load(root));
    expect(error.code).toBe(ErrorCodes.TEMPLATE_INVALID);
    expect(error.message).toMatch(/line \d+/);
  });

  it('a handler naming a file the code folder lacks: BAD_HANDLER with what was looked for', async () => {
    const root = await withTemplate((t) =>
      t.replace(
        'Handler: index.handler\n      Runtime: nodejs22.x',
        'Handler: main.handler\n      Runtime: nodejs22.x',
      ),
    );
    const error = await thrown(() => load(root));
    expect(error.code).toBe(ErrorCodes.BAD_HANDLER);
    expect(error.message).toContain('"ListOrdersFunction"');
    expect(error.message).toContain('main.js or main.mjs or main.cjs');
    expect(error.message).toContain('index.js');
  });

  it('an unsupported runtime: UNSUPPORTED_RUNTIME naming the function', async () => {
    const root = await withTemplate((t) => t.replace('Runtime: python3.13', 'Runtime: nodejs8.10'));
    const error = await thrown(() => load(root));
    expect(error.code).toBe(ErrorCodes.UNSUPPORTED_RUNTIME);
    expect(error.message).toContain('SAM function "ReportFunction"');
    expect(error.message).toContain('nodejs8.10');
  });

  it('a container-image function: TEMPLATE_INVALID naming it, unless left out', async () => {
    const root = await withTemplate((t) =>
      t.replace(
        '  ReportFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n',
        '  ReportFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n',
      ),
    );
    const error = await thrown(() => load(root));
    expect(error.code).toBe(ErrorCodes.TEMPLATE_INVALID);
    expect(error.message).toContain('"ReportFunction"');
    expect(error.message).toContain('PackageType: Image');
    const { specs } = await load(root, { functions: ['CreateOrderFunction', 'ListOrdersFunction'] });
    expect(specs).toHaveLength(2);
  });

  it('code in S3 or a missing code folder: named, with the fix', async () => {
    const s3 = await withTemplate((t) =>
      t.replace('Code: list-orders/', 'Code: s3://my-bucket/list-orders.zip'),
    );
    const error = await thrown(() => load(s3));
    expect(error.code).toBe(ErrorCodes.TEMPLATE_INVALID);
    expect(error.message).toContain('SAM function "ListOrdersFunction"');
    expect(error.message).toContain('sam.overrides.ListOrdersFunction');
    expect(error.message).toContain('S3 code cannot be read here');
    // …which an override fixes
    const fixed = await load(s3, { overrides: { ListOrdersFunction: { code: 'list-orders' } } });
    expect(fixed.get('ListOrdersFunction').code).toBe(join(s3, 'list-orders'));

    const missing = await withTemplate((t) =>
      t.replace('Code: list-orders/', 'Code: .aws-sam/build/ListOrders/'),
    );
    const notFound = await thrown(() => load(missing));
    expect(notFound.code).toBe(ErrorCodes.CODE_NOT_FOUND);
    expect(notFound.message).toContain(join(missing, '.aws-sam', 'build', 'ListOrders'));
  });

  it('sam.functions naming no function, and a name clash with `functions`: CONFIG_INVALID', async () => {
    const root = await fixtureRoot('sam-app');
    const unknown = await thrown(() => load(root, { functions: ['OrdersTable'] }));
    expect(unknown.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(unknown.message).toContain(
      'a resource of type AWS::DynamoDB::Table, which lambda-testkit does not run',
    );
    expect(unknown.message).toContain('CreateOrderFunction, ListOrdersFunction, ReportFunction');
    const clash = await thrown(() =>
      load(
        root,
        {},
        {
          functions: {
            'test-create-order': { runtime: 'nodejs22.x', handler: 'index.handler', code: 'list-orders' },
          },
        },
      ),
    );
    expect(clash.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(clash.message).toContain('"test-create-order"');
  });

  it('a malformed `sam` option: CONFIG_INVALID naming the key', async () => {
    const root = await fixtureRoot('sam-app');
    const error = await thrown(() =>
      loadFunctionSpecs(
        { sam: { template: 42, functions: 'CreateOrderFunction' } } as unknown as TestkitConfig,
        root,
      ),
    );
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(error.message).toContain('`sam.template` must be a path, got number 42');
    expect(error.message).toContain('`sam.functions` must be an array of names');
  });

  it('an override for no function (a typo): CONFIG_INVALID listing the functions', async () => {
    const root = await fixtureRoot('sam-app');
    const error = await thrown(() => load(root, { overrides: { CreateOrderFn: { timeout: 9 } } }));
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(error.message).toContain('sam.overrides names "CreateOrderFn"');
    expect(error.message).toContain('CreateOrderFunction, ListOrdersFunction');
  });

  it('leaves no bundle behind in the repository fixture', () => {
    expect(existsSync(join(import.meta.dirname, 'fixtures', 'sam-app', 'node_modules'))).toBe(false);
  });
});
