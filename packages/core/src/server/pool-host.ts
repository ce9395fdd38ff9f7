/**
 * The pool host: backend + warm pool + pool server for one test run, as a ref-counted,
 * process-wide singleton.
 *
 * Why a `globalThis` singleton and not a module variable: Vitest loads global setups, reporters
 * and plugins through its module runner, and a plain import of the same file gets another module
 * instance (runner-integration.md §1.1); global setups may run once per project (Vitest ≤ 4 with
 * `extends: true`, §1.4) and again after a config restart (§1.3). All of them must share one pool.
 */
import { dirname, resolve } from 'node:path';
import type { LambdaBackend } from '../backend.ts';
import { selectBackend } from '../backends/docker/select-backend.ts';
import { loadConfig } from '../config/load-config.ts';
import type { BackendChoice, TestkitConfig } from '../config.ts';
import { BackendError, ConfigError, ErrorCodes } from '../errors.ts';
import type { FunctionSpec, ResolvedFunction } from '../function-spec.ts';
import { resolveFunction } from '../pool/resolve-function.ts';
import { WarmPool } from '../pool/warm-pool.ts';
import { bundledSources, loadFunctionSpecs } from '../sources/index.ts';
import { RunWiring } from '../wiring/run-wiring.ts';
import { createRunToken } from './auth.ts';
import { PoolServer } from './pool-server.ts';
import { type SummaryRow, summaryRows } from './summary.ts';

/** Environment variables the host honours (CI uses them to switch backends without editing configs). */
export const ENV_BACKEND = 'LAMBDA_TESTKIT_BACKEND';
export const ENV_IMAGE = 'LAMBDA_TESTKIT_IMAGE';

const HOST_KEY = Symbol.for('lambda-testkit.pool-host.v1');

interface HostSlot {
  refs: number;
  host?: PoolHost;
  starting?: Promise<PoolHost>;
  /** Kept after the host stops so a reporter that runs after teardown can still print it. */
  lastSummary?: SummaryRow[];
}

function slot(): HostSlot {
  const g = globalThis as { [HOST_KEY]?: HostSlot };
  g[HOST_KEY] ??= { refs: 0 };
  return g[HOST_KEY];
}

export interface AcquirePoolHostOptions {
  /** Directory that relative paths in the config resolve against (from `loadConfig`). */
  root: string;
  /**
   * A watch-mode run: releases keep the instances warm unless `releasePoolHost({ keepAlive: false })`.
   * @default false
   */
  watch?: boolean;
  /** Where progress lines go (backend choice, image pulls, prewarm). @default stderr */
  log?: (line: string) => void;
  /** A backend to use instead of choosing one from `config.backend` (tests, custom backends). */
  backend?: LambdaBackend;
  /**
   * The file `config` was loaded from (`loadConfig().file`). Watch reruns (`refresh()`) read it
   * again: no runner restarts when it changes, since the runner's own config does not import it.
   */
  configFile?: string;
}

export interface PoolHostHandle {
  /** Base URL of the pool server (127.0.0.1). */
  url: string;
  /** The run token workers present. */
  token: string;
  /** Region in ARNs and the SDK configuration. */
  region: string;
  host: PoolHost;
}

/**
 * Starts the run's pool (first call) or joins it (later calls), then loads `config`'s functions.
 * Every acquire must be paired with one `releasePoolHost()`.
 */
export async function acquirePoolHost(
  config: TestkitConfig,
  options: AcquirePoolHostOptions,
): Promise<PoolHostHandle> {
  const s = slot();
  s.refs += 1;
  try {
    let host = s.host;
    if (!host && !s.starting) {
      s.starting = PoolHost.start(config, options).finally(() => {
        s.starting = undefined;
      });
      host = await s.starting;
      s.host = host;
    } else if (!host) {
      // Another acquire is starting the host: join it, then add this config's functions.
      host = await (s.starting as Promise<PoolHost>);
      await host.load(config, options.root, options.configFile);
    } else {
      // A second project, or the first setup after a config restart: same pool, this config's functions.
      if (options.watch) host.watch = true;
      await host.load(config, options.root, options.configFile);
    }
    return { url: host.url, token: host.token, region: host.region, host };
  } catch (error) {
    s.refs -= 1;
    throw error;
  }
}

export interface ReleasePoolHostOptions {
  /**
   * Keep the pool running even when this was the last reference, so the next acquire in this
   * process (watch rerun, config restart) finds warm instances.
   * @default the `watch` flag given to acquire
   */
  keepAlive?: boolean;
}

/** Drops one reference; the last one stops server, pool and backend (unless kept alive). */
export async function releasePoolHost(options: ReleasePoolHostOptions = {}): Promise<void> {
  const s = slot();
  s.refs = Math.max(0, s.refs - 1);
  const host = s.host;
  if (!host || s.refs > 0) return;
  if (options.keepAlive ?? host.watch) return;
  s.host = undefined;
  s.lastSummary = host.summary();
  await host.stop();
}

/** The live host of this process, if any. */
export function currentPoolHost(): PoolHost | undefined {
  return slot().host;
}

/** The summary rows of the live host, or of the last one that stopped (for reporters). */
export function poolHostSummary(): SummaryRow[] {
  const s = slot();
  return s.host?.summary() ?? s.lastSummary ?? [];
}

interface ConfigSource {
  config: TestkitConfig;
  root: string;
  /** Where `config` came from, read again by `refresh()`. */
  file?: string;
}

export class PoolHost {
  readonly url: string;
  readonly token: string;
  readonly region: string;
  readonly backendName: string;
  /** See `AcquirePoolHostOptions.watch`. */
  watch: boolean;
  readonly #backend: LambdaBackend;
  readonly #pool: WarmPool;
  readonly #server: PoolServer;
  readonly #wiring: RunWiring;
  readonly #log: (line: string) => void;
  readonly #sources = new Map<string, ConfigSource>();
  /** Names each configuration (by root) declared when last read: the pool serves their union. */
  readonly #declared = new Map<string, Set<string>>();
  /** Alias (SAM FunctionName, CDK construct path) → pool name; read by the server. */
  readonly #aliases: Map<string, string>;
  /** Source warnings already printed: watch reruns re-read the templates and would repeat them. */
  readonly #warned = new Set<string>();
  #stopping: Promise<void> | undefined;

  private constructor(init: {
    backend: LambdaBackend;
    pool: WarmPool;
    server: PoolServer;
    wiring: RunWiring;
    aliases: Map<string, string>;
    url: string;
    token: string;
    region: string;
    watch: boolean;
    log: (line: string) => void;
  }) {
    this.#backend = init.backend;
    this.#pool = init.pool;
    this.#server = init.server;
    this.#wiring = init.wiring;
    this.#aliases = init.aliases;
    this.url = init.url;
    this.token = init.token;
    this.region = init.region;
    this.backendName = init.backend.name;
    this.watch = init.watch;
    this.#log = init.log;
  }

  static async start(config: TestkitConfig, options: AcquirePoolHostOptions): Promise<PoolHost> {
    const log = options.log ?? ((line: string) => process.stderr.write(`[lambda-testkit] ${line}\n`));
    const backend = options.backend ?? (await selectBackend(backendChoice(config), { log }));
    const region = config.region ?? 'us-east-1';
    // Set once the server listens (its port is part of the wiring); no launch happens before.
    let wiring: RunWiring | undefined;
    const pool = new WarmPool({
      backend,
      maxConcurrency: config.maxConcurrency,
      maxConcurrentLaunches: config.maxConcurrentLaunches,
      idleTtlMs: config.idleTtlMs,
      region,
      accountId: config.accountId,
      logger: { warn: log },
      launchEnvironment: (fn, instanceId) => wiring?.launchEnvironment(fn, instanceId),
    });
    const token = createRunToken();
    const aliases = new Map<string, string>();
    const server = new PoolServer({ pool, token, log, resolveAlias: (name) => aliases.get(name) });
    let url: string;
    try {
      url = await server.listen();
    } catch (error) {
      await pool.stopAll();
      await backend.close?.();
      throw error;
    }
    wiring = new RunWiring({ backend, token, serverPort: Number(new URL(url).port), log });
    const host = new PoolHost({
      backend,
      pool,
      server,
      wiring,
      aliases,
      url,
      token,
      region,
      watch: options.watch ?? false,
      log,
    });
    try {
      await host.load(config, options.root, options.configFile);
    } catch (error) {
      await host.stop();
      throw error;
    }
    log(`pool server on ${url}, backend ${backend.name}, functions: ${pool.functionNames().join(', ')}`);
    return host;
  }

  /** Registers `config`'s functions (a new deploy id retires old instances) and prewarms. */
  async load(config: TestkitConfig, root: string, file?: string): Promise<void> {
    const resolved = await this.#resolve(config, root);
    const othersDeclare = [...this.#declared].some(([r, names]) => r !== root && names.size > 0);
    if (resolved.length === 0 && !othersDeclare) {
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
    await this.#prepareImages(resolved);
    await this.#prewarm(config, resolved);
  }

  /**
   * Makes every declared function's image present before any test runs, one pull per image, with
   * progress. A pull inside the first invoke would count against that test's timeout and look like
   * a hang; an image that cannot be had (no registry, a typo in an override) fails the setup once,
   * naming every such image, instead of failing each test that calls the function.
   */
  async #prepareImages(resolved: ResolvedFunction[]): Promise<void> {
    if (!this.#backend.prepare || resolved.length === 0) return;
    const byImage = new Map<string, ResolvedFunction>();
    for (const fn of resolved) byImage.set(fn.image ?? fn.runtime, fn);
    const settled = await Promise.allSettled(
      [...byImage.values()].map((fn) => this.#backend.prepare?.(fn, (p) => this.#log(p.message))),
    );
    const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      const reasons = failures.map((e) => (e instanceof Error ? e.message : String(e)));
      throw new BackendError(
        ErrorCodes.IMAGE_UNAVAILABLE,
        `${failures.length} images could not be made present:\n- ${reasons.join('\n- ')}`,
        { cause: failures[0], details: { failures: reasons } },
      );
    }
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
      const resolved = await this.#resolve(source.config, source.root);
      this.#declared.set(key, new Set(resolved.map((fn) => fn.name)));
      changed.push(...this.#register(resolved));
    }
    await this.#dropUndeclared();
    return changed;
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
    for (const name of this.#pool.functionNames()) {
      const fn = this.#pool.getFunction(name);
      for (const archive of fn ? [fn.code, ...fn.layers] : []) {
        for (const path of bundledSources(archive.source) ?? [archive.source]) paths.add(path);
      }
    }
    return [...paths].filter((path) => !path.split(/[\\/]/).includes('node_modules'));
  }

  /** Per-function rows for the end-of-run table (`formatSummary`). */
  summary(): SummaryRow[] {
    return summaryRows(this.#pool.stats());
  }

  /** The pool itself, for callers in the main process (reporters, advanced setups). */
  get pool(): WarmPool {
    return this.#pool;
  }

  /** Stops the server, then every instance, then the backend. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#server.close();
      await this.#pool.stopAll();
      await this.#backend.close?.();
    })();
    return this.#stopping;
  }

  /** Logs `message` once per host: watch reruns re-read sources, which would repeat their warnings. */
  #warn(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.#log(message);
  }

  async #resolve(config: TestkitConfig, root: string): Promise<ResolvedFunction[]> {
    // The wiring's variables (LAMBDA_TESTKIT_HOST, endpoints) are part of each function's
    // environment, so a change to them gives a new deploy id like any other environment edit.
    const wired = await this.#wiring.apply(config, root);
    const specs = (await loadFunctionSpecs(config, root, { warn: (m) => this.#warn(m) })).map((spec) =>
      this.#wiring.applyTo(withImageOverride(spec, config), root, wired),
    );
    for (const spec of specs) for (const alias of spec.aliases ?? []) this.#aliases.set(alias, spec.name);
    const resolved = await Promise.all(specs.map((spec) => resolveFunction(spec, { root })));
    const foreign = architectureWarning(resolved, hostArchitecture());
    if (foreign) this.#warn(foreign);
    return resolved;
  }

  async #prewarm(config: TestkitConfig, resolved: ResolvedFunction[]): Promise<void> {
    const wanted = config.prewarm === true ? resolved.map((f) => f.name) : config.prewarm || [];
    const unknown = wanted.filter((name) => !this.#pool.has(name));
    if (unknown.length) {
      throw new ConfigError(
        ErrorCodes.UNKNOWN_FUNCTION,
        `prewarm names ${unknown.join(', ')}, which the configuration does not declare. ` +
          `Declared: ${this.#pool.functionNames().join(', ')}.`,
        { details: { unknown } },
      );
    }
    if (wanted.length === 0) return;
    const started = Date.now();
    // The pool bounds concurrent launches (maxConcurrentLaunches), so all can be asked at once.
    await Promise.all(wanted.map((name) => this.#pool.prewarm(name)));
    this.#log(`prewarmed ${wanted.join(', ')} on ${this.backendName} in ${Date.now() - started} ms`);
  }
}

/** This machine's CPU in Lambda's words (`x86_64`, `arm64`), or Node's name for any other. */
function hostArchitecture(): string {
  if (process.arch === 'x64') return 'x86_64';
  return process.arch;
}

/**
 * Functions that declare another architecture than the machine's (SAM templates often say arm64)
 * run on the machine's CPU all the same: no backend emulates another one. Said once, because
 * native modules or binaries built for the declared CPU then fail to load, which would otherwise
 * look like a bug in the handler.
 */
export function architectureWarning(
  functions: readonly ResolvedFunction[],
  host: string,
): string | undefined {
  const foreign = functions.filter((fn) => fn.architecture !== host);
  if (foreign.length === 0) return undefined;
  const declared = [...new Set(foreign.map((fn) => fn.architecture))].join(' or ');
  const s = foreign.length === 1 ? 's' : '';
  return (
    `${foreign.map((fn) => fn.name).join(', ')} declare${s} ${declared} but run${s} on this ` +
    `machine's ${host} (lambda-testkit does not emulate another CPU): JavaScript behaves the same, native ` +
    `modules or binaries built for ${declared} will not load.`
  );
}

function backendChoice(config: TestkitConfig): BackendChoice {
  const fromEnv = process.env[ENV_BACKEND];
  if (fromEnv === undefined || fromEnv === '') return config.backend ?? 'auto';
  if (fromEnv === 'docker' || fromEnv === 'process' || fromEnv === 'auto') return fromEnv;
  throw new ConfigError(
    ErrorCodes.CONFIG_INVALID,
    `${ENV_BACKEND} must be docker, process or auto, got ${JSON.stringify(fromEnv)}.`,
    { details: { [ENV_BACKEND]: fromEnv } },
  );
}

/** `LAMBDA_TESTKIT_IMAGE` beats everything; then the function's own `image`; then `config.images`. */
function withImageOverride(spec: FunctionSpec, config: TestkitConfig): FunctionSpec {
  const global = process.env[ENV_IMAGE];
  if (global) return { ...spec, image: global };
  if (spec.image) return spec;
  const perRuntime = config.images?.[spec.runtime];
  return perRuntime ? { ...spec, image: perRuntime } : spec;
}
