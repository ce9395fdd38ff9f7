/**
 * Shape checks for a TestkitConfig, with messages of the form "expected …, got …; fix: …".
 *
 * Only the shape is checked here. What needs the file system or the runtime table (code paths,
 * handler strings, runtime ids, limits) is checked by `resolveFunction`, which names the function.
 * Unknown top-level keys are let through: function sources (SAM, CDK) add their own options.
 */
import { BACKEND_CHOICES, isBackendChoice, type TestkitConfig } from '../config.ts';
import { ConfigError, ErrorCodes } from '../errors.ts';
import { BUNDLE_LOADERS } from '../function-spec.ts';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object whose every value passes `test` (string maps: environment, define, images, loader). */
function isRecordOf(value: unknown, test: (v: unknown) => boolean): boolean {
  return isRecord(value) && Object.values(value).every(test);
}

const isString = (v: unknown): v is string => typeof v === 'string';

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(isString);
}

const isStringMap = (v: unknown) => isRecordOf(v, isString);

/** Records problems: `fail` one, `optional` one for a value that is set but fails `test`. */
interface Checks {
  fail(path: string, expected: string, got: unknown): void;
  optional(path: string, value: unknown, test: (v: unknown) => boolean, expected: string): void;
}

const BUNDLE_KEYS = [
  'format',
  'minify',
  'sourcemap',
  'define',
  'loader',
  'external',
  'bundleAwsSdk',
  'target',
];

/**
 * `bundle` options go to esbuild, whose own message for a wrong shape ("Expected value for
 * define to be a string") names neither the function nor the option's path; a misspelt key
 * (`externals`) it would never see at all.
 */
function checkBundle(at: string, bundle: unknown, { fail, optional }: Checks, problems: string[]): void {
  if (!isRecord(bundle)) {
    fail(
      at,
      'an object of esbuild options ({ format, minify, sourcemap, define, loader, external, target })',
      bundle,
    );
    return;
  }
  for (const key of Object.keys(bundle)) {
    if (!BUNDLE_KEYS.includes(key)) {
      problems.push(`\`${at}.${key}\` is not a bundle option; the options are ${BUNDLE_KEYS.join(', ')}`);
    }
  }
  if (bundle.format !== undefined && bundle.format !== 'cjs' && bundle.format !== 'esm') {
    fail(`${at}.format`, "'cjs' or 'esm'", bundle.format);
  }
  for (const key of ['minify', 'sourcemap', 'bundleAwsSdk'] as const) {
    if (bundle[key] !== undefined && typeof bundle[key] !== 'boolean')
      fail(`${at}.${key}`, 'true or false', bundle[key]);
  }
  if (bundle.target !== undefined && (typeof bundle.target !== 'string' || bundle.target === '')) {
    fail(`${at}.target`, "an esbuild target such as 'node22' or 'es2022'", bundle.target);
  }
  optional(
    `${at}.define`,
    bundle.define,
    isStringMap,
    "an object of strings holding JS expressions (e.g. { DEBUG: 'false' })",
  );
  optional(
    `${at}.loader`,
    bundle.loader,
    (v) => isRecordOf(v, (l) => (BUNDLE_LOADERS as readonly unknown[]).includes(l)),
    `an object mapping extensions to one of ${BUNDLE_LOADERS.join(', ')}`,
  );
  optional(`${at}.external`, bundle.external, isStringArray, 'an array of module names');
}

/** Service ids as AWS SDKs spell them in `AWS_ENDPOINT_URL_<SERVICE>` (lower-case here). */
const SERVICE_ID = /^[a-z][a-z0-9_ -]*$/i;

function isEndpointUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function isPort(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65536;
}

/** `network`, `hostPorts`, `awsEndpoints`, `functionsCanInvoke` (docs/wiring.md). */
function checkWiring(
  raw: Record<string, unknown>,
  fail: (path: string, expected: string, got: unknown) => void,
): void {
  const { network, hostPorts, awsEndpoints, functionsCanInvoke } = raw;
  if (
    network !== undefined &&
    !(typeof network === 'string' && network !== '') &&
    !(isRecord(network) && typeof network.getName === 'function')
  ) {
    fail('network', 'a Docker network name or a Testcontainers StartedNetwork', network);
  }
  if (hostPorts !== undefined && !(Array.isArray(hostPorts) && hostPorts.every(isPort))) {
    fail('hostPorts', 'an array of port numbers (1-65535) of servers on 127.0.0.1', hostPorts);
  }
  if (awsEndpoints !== undefined) {
    if (isRecord(awsEndpoints)) {
      for (const [service, url] of Object.entries(awsEndpoints)) {
        if (!SERVICE_ID.test(service))
          fail(`awsEndpoints.${service}`, 'keyed by an AWS service id such as dynamodb or s3', service);
        else if (!isEndpointUrl(url))
          fail(`awsEndpoints.${service}`, "an http(s) URL such as 'http://127.0.0.1:8000'", url);
      }
    } else if (!isEndpointUrl(awsEndpoints)) {
      fail(
        'awsEndpoints',
        "an http(s) URL for every service, or an object of them per service id ({ dynamodb: 'http://127.0.0.1:8000' })",
        awsEndpoints,
      );
    }
  }
  if (functionsCanInvoke !== undefined && typeof functionsCanInvoke !== 'boolean') {
    fail('functionsCanInvoke', 'true or false', functionsCanInvoke);
  }
}

export function validateConfig(raw: unknown, source: string): TestkitConfig {
  const problems: string[] = [];
  const fail = (path: string, expected: string, got: unknown) =>
    problems.push(`\`${path}\` must be ${expected}, got ${describe(got)}`);
  const optional: Checks['optional'] = (path, value, test, expected) => {
    if (value !== undefined && !test(value)) fail(path, expected, value);
  };

  if (!isRecord(raw)) {
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `Invalid lambda-testkit configuration in ${source}: expected an object ` +
        `(export default defineConfig({ functions: { … } })), got ${describe(raw)}.`,
      { details: { source } },
    );
  }

  const { functions, backend, prewarm, images } = raw;
  if (functions !== undefined) {
    if (!isRecord(functions)) fail('functions', 'an object keyed by function name', functions);
    else {
      for (const [name, fn] of Object.entries(functions)) {
        const at = `functions.${name}`;
        if (!isRecord(fn)) {
          fail(at, 'an object ({ runtime, handler, code })', fn);
          continue;
        }
        for (const key of ['runtime', 'handler'] as const) {
          if (typeof fn[key] !== 'string' || fn[key] === '')
            fail(`${at}.${key}`, 'a non-empty string', fn[key]);
        }
        for (const key of ['code', 'entry', 'image'] as const) {
          if (fn[key] !== undefined && typeof fn[key] !== 'string') fail(`${at}.${key}`, 'a string', fn[key]);
        }
        if (fn.code === undefined && fn.entry === undefined) {
          problems.push(
            `\`${at}\` needs \`code\` (a directory or .zip) or \`entry\` (a .ts/.js file to bundle)`,
          );
        }
        optional(`${at}.layers`, fn.layers, isStringArray, 'an array of paths (directories or .zip files)');
        optional(
          `${at}.environment`,
          fn.environment,
          isStringMap,
          'an object of string values (Lambda environment values are strings)',
        );
        for (const key of [
          'timeout',
          'memorySize',
          'ephemeralStorage',
          'reservedConcurrency',
          'scaleOutWaitMs',
        ] as const) {
          if (fn[key] !== undefined && !(typeof fn[key] === 'number' && Number.isFinite(fn[key]))) {
            fail(`${at}.${key}`, 'a number', fn[key]);
          }
        }
        if (fn.architecture !== undefined && fn.architecture !== 'x86_64' && fn.architecture !== 'arm64') {
          fail(`${at}.architecture`, "'x86_64' or 'arm64'", fn.architecture);
        }
        if (fn.bundle !== undefined) checkBundle(`${at}.bundle`, fn.bundle, { fail, optional }, problems);
      }
    }
  }
  if (backend !== undefined && !isBackendChoice(backend)) {
    fail('backend', `one of ${BACKEND_CHOICES.map((b) => `'${b}'`).join(', ')}`, backend);
  }
  const kubernetes = raw.kubernetes;
  if (kubernetes !== undefined) {
    if (!isRecord(kubernetes)) {
      fail('kubernetes', 'an object { namespace?, context?, kubeconfig? }', kubernetes);
    } else {
      for (const [key, value] of Object.entries(kubernetes)) {
        if (!['namespace', 'context', 'kubeconfig'].includes(key)) {
          fail(`kubernetes.${key}`, 'one of namespace, context, kubeconfig (an unknown option)', value);
        } else if (typeof value !== 'string' || value === '') {
          fail(`kubernetes.${key}`, 'a non-empty string', value);
        }
      }
    }
  }
  for (const key of ['maxConcurrency', 'maxConcurrentLaunches', 'idleTtlMs'] as const) {
    const v = raw[key];
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v > 0)) {
      fail(key, 'a positive integer', v);
    }
  }
  const scaleOutWaitMs = raw.scaleOutWaitMs;
  if (
    scaleOutWaitMs !== undefined &&
    !(typeof scaleOutWaitMs === 'number' && Number.isFinite(scaleOutWaitMs) && scaleOutWaitMs >= 0)
  ) {
    fail('scaleOutWaitMs', 'a number of milliseconds, 0 or more', scaleOutWaitMs);
  }
  if (
    raw.spareInstances !== undefined &&
    !(
      typeof raw.spareInstances === 'number' &&
      Number.isInteger(raw.spareInstances) &&
      raw.spareInstances >= 0
    )
  ) {
    fail('spareInstances', 'a whole number of at least 0', raw.spareInstances);
  }
  optional(
    'eventRetryDelaysMs',
    raw.eventRetryDelaysMs,
    (v) =>
      Array.isArray(v) &&
      v.length > 0 &&
      v.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0),
    'a non-empty array of milliseconds (e.g. [100, 200])',
  );
  if (prewarm !== undefined && typeof prewarm !== 'boolean') {
    if (!isStringArray(prewarm)) {
      fail('prewarm', 'true, false or an array of function names', prewarm);
    }
  }
  for (const key of ['region', 'accountId', 'root'] as const) {
    if (raw[key] !== undefined && (typeof raw[key] !== 'string' || raw[key] === '')) {
      fail(key, 'a non-empty string', raw[key]);
    }
  }
  if (typeof raw.accountId === 'string' && !/^\d{12}$/.test(raw.accountId)) {
    fail('accountId', 'twelve digits (it appears in ARNs)', raw.accountId);
  }
  optional(
    'images',
    images,
    isStringMap,
    "an object mapping runtime ids to image names (e.g. { 'nodejs22.x': 'my/image:tag' })",
  );

  checkWiring(raw, fail);

  if (problems.length > 0) {
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `Invalid lambda-testkit configuration in ${source}:\n  - ${problems.join('\n  - ')}`,
      { details: { source, problems } },
    );
  }
  return raw as TestkitConfig;
}
