/**
 * Reading a CloudFormation/SAM template from YAML or JSON. JSON (what CDK writes) is parsed here;
 * YAML by yaml-template.ts, loaded only when a template is YAML (docs/architecture.md#loading-on-first-use).
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, ErrorCodes } from '../errors.ts';

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

/** Parses template text; `.json` files (or text starting with `{`) are parsed as JSON. */
export async function parseTemplate(text: string, path: string): Promise<CloudFormationTemplate> {
  const json = path.endsWith('.json') || text.trimStart().startsWith('{');
  // The YAML parser loads with the first YAML template only.
  const yaml = json ? undefined : await import('./yaml-template.ts');
  let parsed: unknown;
  try {
    parsed = yaml ? yaml.parseYamlTemplate(text) : JSON.parse(text);
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
