/**
 * Finds, loads and validates the one configuration shared by the Vitest plugin and the Jest preset.
 *
 * Config files are `lambda-testkit.config.{ts,mts,mjs,js,json}`. TypeScript files are imported
 * natively: Node ≥ 22.18 strips types by default, so no loader or bundler is needed here.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestkitConfig } from '../config.ts';
import { ConfigError, ErrorCodes } from '../errors.ts';
import { validateConfig } from './validate-config.ts';

/** File names tried in each directory, in this order. */
export const CONFIG_FILE_NAMES = [
  'lambda-testkit.config.ts',
  'lambda-testkit.config.mts',
  'lambda-testkit.config.mjs',
  'lambda-testkit.config.js',
  'lambda-testkit.config.json',
] as const;

export interface LoadConfigOptions {
  /** Where discovery starts (the runner's root directory). */
  cwd: string;
  /** An explicit config file (absolute, or relative to `cwd`); discovery is skipped. */
  configFile?: string;
  /**
   * Configuration given inline (Vitest plugin options, Jest preset options). When it is given,
   * config files are not read: one source of truth per run.
   */
  inline?: TestkitConfig;
}

export interface LoadedConfig {
  config: TestkitConfig;
  /** Directory that relative paths in `config` resolve against. */
  root: string;
  /** The file the configuration came from, when it came from a file. */
  file?: string;
}

/** Walks up from `cwd` to the nearest folder holding a config file, stopping at the package root. */
export function findConfigFile(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
    // Stop at the package boundary: a config two packages up belongs to someone else.
    if (existsSync(join(dir, 'package.json')) || dirname(dir) === dir) return undefined;
  }
}

export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const cwd = resolve(options.cwd);
  if (options.inline !== undefined) {
    const config = validateConfig(options.inline, 'the inline configuration');
    return { config, root: config.root ? resolve(cwd, config.root) : cwd };
  }
  const file = options.configFile ? resolve(cwd, options.configFile) : findConfigFile(cwd);
  if (!file) {
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `No lambda-testkit configuration found: looked for ${CONFIG_FILE_NAMES.join(', ')} in ${cwd} ` +
        'and its parent folders up to the package root. Create lambda-testkit.config.ts ' +
        '(export default defineConfig({ functions: { … } })) or pass the functions inline to the plugin/preset.',
      { details: { cwd } },
    );
  }
  const raw = await importConfigFile(file);
  const config = validateConfig(raw, file);
  const fileDir = dirname(file);
  return {
    config,
    root: config.root ? (isAbsolute(config.root) ? config.root : resolve(fileDir, config.root)) : fileDir,
    file,
  };
}

async function importConfigFile(file: string): Promise<unknown> {
  let mtime: number;
  try {
    mtime = (await stat(file)).mtimeMs;
  } catch (cause) {
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `Config file ${file} does not exist or cannot be read. Check the path given as configFile.`,
      { cause, details: { file } },
    );
  }
  try {
    if (file.endsWith('.json')) return JSON.parse(await readFile(file, 'utf8'));
    // The mtime query makes a watch-mode reload see an edited file instead of the ESM cache.
    const mod = (await import(`${pathToFileURL(file).href}?mtime=${Math.trunc(mtime)}`)) as {
      default?: unknown;
    };
    const exported = mod.default ?? mod;
    return typeof exported === 'function' ? await (exported as () => unknown)() : exported;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `Could not load config file ${file}: ${reason}. ` +
        (file.endsWith('.ts') || file.endsWith('.mts')
          ? 'TypeScript config files need Node ≥ 22.18 (type stripping) and only erasable syntax (no enums or namespaces).'
          : 'Fix the error above.'),
      { cause, details: { file } },
    );
  }
}
