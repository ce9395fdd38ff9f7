/**
 * The host's catalogue: which configurations are loaded (by root), the functions each declares,
 * their aliases, and the files whose edits change what the pool serves. It keeps the pool's
 * registrations in step with the configurations: new deploy ids replace old ones, functions no
 * configuration declares any more are dropped.
 */
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../config/load-config.ts';
import type { TestkitConfig } from '../config.ts';
import { ConfigError, ErrorCodes, type LambdaTestkitError } from '../errors.ts';
import type { ResolvedFunction } from '../function-spec.ts';
import { resolveFunction } from '../packaging/resolve-function.ts';
import type { WarmPool } from '../pool/warm-pool.ts';
import {
  bundledSources,
  loadFunctions,
  type UnrunnableFunction,
  unrunnableSummary,
} from '../sources/index.ts';
import { architectureWarning, hostArchitecture } from './architecture.ts';
import { withDebugOverride, withImageOverride } from './env-overrides.ts';

interface ConfigSource {
  config: TestkitConfig;
  root: string;
  /** Where `config` came from, read again by `refresh()`. */
  file?: string;
}

export class FunctionCatalogue {
  readonly #pool: WarmPool;
  readonly #log: (line: string) => void;
  readonly #sources = new Map<string, ConfigSource>();
  /** Names each configuration (by root) declared when last read: the pool serves their union. */
  readonly #declared = new Map<string, Set<string>>();
  /** Alias (SAM FunctionName, CDK construct path) → pool name; read by the server. */
  readonly #aliases = new Map<string, string>();
  /** Source warnings already printed: watch reruns re-read the templates and would repeat them. */
  readonly #warned = new Set<string>();
  /** Template functions each configuration (by root) declares but that cannot run here. */
  readonly #leftOut = new Map<string, UnrunnableFunction[]>();
  /** Template files each configuration (by root) read, nested templates included. */
  readonly #templates = new Map<string, string[]>();

  constructor(pool: WarmPool, log: (line: string) => void) {
    this.#pool = pool;
    this.#log = log;
  }

  /**
   * The error an invoke of a left-out function (by name or alias) fails with: why it cannot run
   * here and what to set. Undefined for any other name.
   */
  leftOutError(name: string): LambdaTestkitError | undefined {
    for (const functions of this.#leftOut.values()) {
      const found = functions.find((f) => f.name === name || f.aliases.includes(name));
      if (found) return found.error;
    }
    return undefined;
  }

  /** Names of the functions left out, over every configuration. */
  leftOutNames(): string[] {
    return [...this.#leftOut.values()].flatMap((functions) => functions.map((f) => f.name));
  }

  /** The pool name an alias stands for, if it is one. */
  resolveAlias(name: string): string | undefined {
    return this.#aliases.get(name);
  }

  /**
   * Registers `config`'s functions (a new deploy id retires old instances) and drops those no
   * configuration declares any more; resolves with the functions `config` declares.
   */
  async load(config: TestkitConfig, root: string, file?: string): Promise<ResolvedFunction[]> {
    const { resolved, unrunnable } = await this.#resolve(config, root);
    const othersDeclare = [...this.#declared].some(([r, names]) => r !== root && names.size > 0);
    // A template whose every function was left out declares functions: the summary line says why.
    if (resolved.length === 0 && unrunnable.length === 0 && !othersDeclare) {
      throw new ConfigError(
        ErrorCodes.CONFIG_INVALID,
        `The lambda-testkit configuration (root ${root}) declares no functions. Add them under \`functions\`, ` +
          "e.g. functions: { hello: { runtime: 'nodejs22.x', handler: 'index.handler', code: './src/hello' } }.",
        { details: { root } },
      );
    }
    // Keyed by root: after a config restart the edited configuration replaces the old one.
    this.#sources.set(root, { config, root, file });
    this.#declared.set(root, new Set(resolved.map((fn) => fn.name)));
    this.#register(resolved);
    await this.#dropUndeclared();
    return resolved;
  }

  /**
   * Re-reads every loaded configuration (its file, then its functions' code, layers and templates;
   * watch reruns): changed code or settings get a new deploy id, so the next call starts a fresh
   * instance; added functions become invocable, removed ones unknown. Resolves with the names that
   * changed.
   */
  async refresh(): Promise<string[]> {
    const changed: string[] = [];
    for (const [key, source] of this.#sources) {
      if (source.file) await this.#reread(source);
      const { resolved } = await this.#resolve(source.config, source.root, key);
      this.#declared.set(key, new Set(resolved.map((fn) => fn.name)));
      changed.push(...this.#register(resolved));
    }
    await this.#dropUndeclared();
    return changed;
  }

  /**
   * Files and folders whose edits change what the pool serves: config files, SAM templates and CDK
   * assemblies, the functions' code and layer sources, and for a bundled `entry` the files esbuild
   * read. Watch modes rerun the tests when one changes, since test files rarely import the handlers
   * they invoke. Paths under node_modules (dependencies, the bundle cache) are left out.
   */
  watchedPaths(): string[] {
    const paths = new Set<string>();
    for (const { config, root, file } of this.#sources.values()) {
      if (file) paths.add(file);
      if (config.sam?.template) paths.add(resolve(root, config.sam.template));
      if (config.cdk?.assembly) paths.add(resolve(root, config.cdk.assembly));
    }
    for (const templates of this.#templates.values()) for (const path of templates) paths.add(path);
    for (const name of this.#pool.functionNames()) {
      const fn = this.#pool.getFunction(name);
      for (const archive of fn ? [fn.code, ...fn.layers] : []) {
        for (const path of bundledSources(archive.source) ?? [archive.source]) paths.add(path);
      }
    }
    return [...paths].filter((path) => !path.split(/[\\/]/).includes('node_modules'));
  }

  /** Loads a source's config file again; a file broken mid-edit keeps the previous configuration. */
  async #reread(source: ConfigSource): Promise<void> {
    const file = source.file as string;
    try {
      const loaded = await loadConfig({ cwd: dirname(file), configFile: file });
      source.config = loaded.config;
      source.root = loaded.root;
    } catch (error) {
      this.#log(
        `could not read ${file} again (${error instanceof Error ? error.message : String(error)}); ` +
          'keeping its previous configuration until it loads',
      );
    }
  }

  /**
   * Unregisters functions no configuration declares any more (removed from the config before a
   * restart, or from a SAM/CDK template between watch reruns): calling one then says it is unknown,
   * and its instances stop, instead of it being served from a stale declaration.
   */
  async #dropUndeclared(): Promise<void> {
    const declared = new Set<string>();
    for (const names of this.#declared.values()) for (const name of names) declared.add(name);
    const gone = this.#pool.functionNames().filter((name) => !declared.has(name));
    if (gone.length === 0) return;
    for (const [alias, target] of this.#aliases) if (gone.includes(target)) this.#aliases.delete(alias);
    await Promise.all(gone.map((name) => this.#pool.unregister(name)));
    this.#log(`no longer declared: ${gone.join(', ')} (removed, instances stopped)`);
  }

  /** Registers resolved functions; resolves with (and logs) those whose deploy id changed. */
  #register(resolved: ResolvedFunction[]): string[] {
    const changed: string[] = [];
    for (const fn of resolved) {
      const known = this.#pool.getFunction(fn.name);
      if (known && known.deployId !== fn.deployId) changed.push(fn.name);
      this.#pool.register(fn);
    }
    if (changed.length) this.#log(`code changed: ${changed.join(', ')} (fresh instances on the next call)`);
    return changed;
  }

  /** Logs `message` once per host: watch reruns re-read sources, which would repeat their warnings. */
  #warn(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.#log(message);
  }

  /**
   * Loads and resolves a configuration's functions; those a template declares but that cannot run
   * here are remembered under `key` (the configuration's root) and summed up in one line.
   */
  async #resolve(
    config: TestkitConfig,
    root: string,
    key = root,
  ): Promise<{ resolved: ResolvedFunction[]; unrunnable: UnrunnableFunction[] }> {
    const loaded = await loadFunctions(config, root, { warn: (m) => this.#warn(m) });
    this.#leftOut.set(key, loaded.unrunnable);
    this.#templates.set(key, loaded.templates);
    const summary = unrunnableSummary(loaded.unrunnable);
    if (summary) this.#warn(summary);
    const specs = withDebugOverride(loaded.specs.map((spec) => withImageOverride(spec, config)));
    for (const spec of specs) for (const alias of spec.aliases ?? []) this.#aliases.set(alias, spec.name);
    const resolved = await Promise.all(specs.map((spec) => resolveFunction(spec, { root })));
    const foreign = architectureWarning(resolved, hostArchitecture());
    if (foreign) this.#warn(foreign);
    return { resolved, unrunnable: loaded.unrunnable };
  }
}
