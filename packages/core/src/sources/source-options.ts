/**
 * Configuration of the function sources other than the plain `functions` map: SAM templates and
 * CDK cloud assemblies. Referenced by `TestkitConfig` (`config.ts`).
 */
import { ConfigError, ErrorCodes } from '../errors.ts';
import type { FunctionDeclaration } from '../function-spec.ts';

/**
 * Properties that replace what a template declares for one function. `environment` is merged
 * over the template's variables (a key set here wins); every other property replaces.
 */
export type FunctionOverride = Partial<FunctionDeclaration>;

export interface SamSourceOptions {
  /** Path of `template.yaml` / `template.yml` / `template.json`, relative to the root. */
  template: string;
  /**
   * Values for the template's `Parameters` (as `sam local --parameter-overrides` takes them);
   * parameters not given here use their `Default`.
   */
  parameters?: Record<string, string>;
  /**
   * Load only these functions (logical ids). Other functions of the template are ignored, even
   * when they could not run here (container-image functions, S3 code).
   * @default every AWS::Serverless::Function and AWS::Lambda::Function of the template
   */
  functions?: string[];
  /** Per-function overrides, keyed by logical id (or the literal `FunctionName`). */
  overrides?: Record<string, FunctionOverride>;
}

export interface CdkSourceOptions {
  /** The cloud assembly directory `cdk synth` wrote (`cdk.out`), relative to the root. */
  assembly: string;
  /**
   * Load only these stacks (artifact ids or display names, such as `MyStage/MyStack`).
   * @default every stack of the assembly, nested stage assemblies included
   */
  stacks?: string[];
  /**
   * Load only these functions (construct paths such as `MyStack/Orders`, or logical ids).
   * @default every AWS::Lambda::Function of the loaded stacks
   */
  functions?: string[];
  /** Values for the stacks' `Parameters`; others use their `Default`. */
  parameters?: Record<string, string>;
  /** Per-function overrides, keyed by construct path (`MyStack/Orders`) or logical id. */
  overrides?: Record<string, FunctionOverride>;
}

function describe(value: unknown): string {
  return value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * Checks the shape of `sam` / `cdk` before reading anything, with the config path in the message
 * (the shared config validator checks the plain `functions` only).
 */
export function checkSourceOptions(
  key: 'sam' | 'cdk',
  options: unknown,
  pathKey: 'template' | 'assembly',
): asserts options is Record<string, unknown> {
  const problems: string[] = [];
  const example = key === 'sam' ? "sam: { template: './template.yaml' }" : "cdk: { assembly: './cdk.out' }";
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    problems.push(`\`${key}\` must be an object (${example}), got ${describe(options)}`);
  } else {
    const o = options as Record<string, unknown>;
    if (typeof o[pathKey] !== 'string' || o[pathKey] === '') {
      problems.push(`\`${key}.${pathKey}\` must be a path, got ${describe(o[pathKey])}`);
    }
    for (const list of ['functions', 'stacks'] as const) {
      const v = o[list];
      if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
        problems.push(`\`${key}.${list}\` must be an array of names, got ${describe(v)}`);
      }
    }
    for (const map of ['parameters', 'overrides'] as const) {
      const v = o[map];
      if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) {
        problems.push(`\`${key}.${map}\` must be an object keyed by name, got ${describe(v)}`);
      }
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `Invalid lambda-testkit configuration:\n  - ${problems.join('\n  - ')}`,
      {
        details: { problems },
      },
    );
  }
}
