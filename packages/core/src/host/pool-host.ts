/**
 * The composition root of a test run: the backend, the warm pool in front of it and the pool
 * server in front of that, wired together, started and stopped as one. What the pool serves comes
 * from the function catalogue; images and prewarm are done before any test runs (warm-up.ts).
 * One per process, shared through host-registry.ts.
 */

import type { LambdaBackend } from '../backend.ts';
import type { TestkitConfig } from '../config.ts';
import { DEBUG_TIMEOUT_SECONDS } from '../debug.ts';
import { stderrLog } from '../log.ts';
import { WarmPool } from '../pool/warm-pool.ts';
import { createRunToken } from '../server/auth.ts';
import { PoolServer } from '../server/pool-server.ts';
import { backendChoice, kubernetesOptions } from './env-overrides.ts';
import { FunctionCatalogue } from './function-catalogue.ts';
import { RunWiring } from './run-wiring.ts';
import { selectBackend } from './select-backend.ts';
import { type SummaryRow, summaryRows } from './summary.ts';
import { prepareImages, prewarm } from './warm-up.ts';

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

/** Beyond a debugged function's lifted timeout: the cold start and the pool's margin fit in it. */
const CLIENT_DEADLINE_SLACK_SECONDS = 15 * 60;

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
  readonly #catalogue: FunctionCatalogue;
  readonly #log: (line: string) => void;
  #stopping: Promise<void> | undefined;

  private constructor(init: {
    backend: LambdaBackend;
    pool: WarmPool;
    server: PoolServer;
    catalogue: FunctionCatalogue;
    url: string;
    token: string;
    region: string;
    watch: boolean;
    log: (line: string) => void;
  }) {
    this.#backend = init.backend;
    this.#pool = init.pool;
    this.#server = init.server;
    this.#catalogue = init.catalogue;
    this.url = init.url;
    this.token = init.token;
    this.region = init.region;
    this.backendName = init.backend.name;
    this.watch = init.watch;
    this.#log = init.log;
  }

  /**
   * Chooses the backend, starts pool and server, loads `config`'s functions and prewarms. Most
   * callers want `acquirePoolHost` (one host per process); this is for a host of one's own, e.g.
   * `await using host = await PoolHost.start(config, { root })`.
   */
  static async start(config: TestkitConfig, options: AcquirePoolHostOptions): Promise<PoolHost> {
    const log = options.log ?? stderrLog;
    const backend =
      options.backend ??
      (await selectBackend(backendChoice(config), { log, kubernetes: kubernetesOptions(config) }));
    const region = config.region ?? 'us-east-1';
    const pool = new WarmPool({
      backend,
      maxConcurrency: config.maxConcurrency,
      maxConcurrentLaunches: config.maxConcurrentLaunches,
      scaleOutWaitMs: config.scaleOutWaitMs,
      spareInstances: config.spareInstances,
      idleTtlMs: config.idleTtlMs,
      region,
      accountId: config.accountId,
      logger: { warn: log },
      // Per-instance credentials of functions that may invoke functions (set before any launch).
      launchEnvironment: (fn, instanceId) => wiring?.launchEnvironment(fn, instanceId),
    });
    const token = createRunToken();
    // Made once the server listens: the wiring needs its port, the catalogue the wiring.
    let wiring: RunWiring | undefined;
    let catalogue: FunctionCatalogue | undefined;
    const server = new PoolServer({
      pool,
      token,
      log,
      eventRetryDelaysMs: config.eventRetryDelaysMs,
      resolveAlias: (name) => catalogue?.resolveAlias(name),
      leftOut: {
        error: (name) => catalogue?.leftOutError(name),
        names: () => catalogue?.leftOutNames() ?? [],
      },
    });
    let url: string;
    try {
      url = await server.listen();
    } catch (error) {
      await pool.stopAll();
      await backend.close?.();
      throw error;
    }
    wiring = new RunWiring({ backend, token, serverPort: Number(new URL(url).port), log });
    catalogue = new FunctionCatalogue(pool, log, wiring);
    const host = new PoolHost({
      backend,
      pool,
      server,
      catalogue,
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

  /** Registers `config`'s functions (a new deploy id retires old instances), prepares images, prewarms. */
  async load(config: TestkitConfig, root: string, file?: string): Promise<void> {
    const resolved = await this.#catalogue.load(config, root, file);
    await prepareImages(this.#backend, resolved, this.#log);
    await prewarm(this.#pool, config, resolved, this.backendName, this.#log);
  }

  /**
   * Re-reads every loaded configuration (watch reruns): changed code or settings get a fresh
   * instance on the next call, added functions become invocable, removed ones unknown. Resolves
   * with the names that changed.
   */
  refresh(): Promise<string[]> {
    return this.#catalogue.refresh();
  }

  /** Files and folders whose edits change what the pool serves (see `FunctionCatalogue.watchedPaths`). */
  watchedPaths(): string[] {
    return this.#catalogue.watchedPaths();
  }

  /** Per-function rows for the end-of-run table (`formatSummary`). */
  summary(): SummaryRow[] {
    return summaryRows(this.#pool.stats(), this.#server.eventCounts());
  }

  /**
   * The request deadline workers' pool clients should use: undefined (their default) unless a
   * function is debugged, then longer than its lifted timeout (`DEBUG_TIMEOUT_SECONDS`), so a
   * client never gives up on a handler paused at a breakpoint. The adapters hand it to workers.
   */
  clientRequestTimeoutMs(): number | undefined {
    const debugging = this.#pool.functionNames().some((name) => this.#pool.getFunction(name)?.debug);
    return debugging ? (DEBUG_TIMEOUT_SECONDS + CLIENT_DEADLINE_SLACK_SECONDS) * 1000 : undefined;
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

  /** `await using host = await PoolHost.start(...)` stops it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
