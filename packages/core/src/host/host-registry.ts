/**
 * The run's one pool host, as a ref-counted, process-wide registry on `globalThis`.
 *
 * Why `globalThis` and not a module variable: Vitest loads global setups, reporters and plugins
 * through its module runner, and a plain import of the same file gets another module instance;
 * global setups may run once per project (Vitest ≤ 4 with `extends: true`) and again after a config
 * restart (docs/runner-integration.md#vitest-global-setup, docs/runner-integration.md#config-restarts).
 * All of them must share one pool.
 */
import type { TestkitConfig } from '../config.ts';
import { type AcquirePoolHostOptions, PoolHost } from './pool-host.ts';
import type { SummaryRow } from './summary.ts';

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
