/**
 * The preset's `globalSetup`: starts the pool and its server in Jest's main process, once per run,
 * and hands `{ url, token, region }` to the workers through `process.env` (Jest forks its workers
 * after globalSetup with `{ ...process.env }`; docs/runner-integration.md#jest-global-setup).
 *
 * In watch mode Jest calls this again on every rerun; the pool is then kept and only refreshed, so
 * changed code gets fresh instances and unchanged functions stay warm.
 */

import { ENV_REGION, ENV_REQUEST_TIMEOUT, ENV_TOKEN, ENV_URL } from '@lambda-testkit/core/client';
import { acquirePoolHost, currentPoolHost, loadConfig } from '@lambda-testkit/core/host';
import type { JestGlobalConfig, JestProjectConfig } from './jest-types.ts';
import { getRunState, type JestRunState, setRunState } from './run-state.ts';

/** Names the config file to load instead of discovering `lambda-testkit.config.*` from the rootDir. */
export const ENV_CONFIG = 'LAMBDA_TESTKIT_CONFIG';

export default async function globalSetup(
  globalConfig: JestGlobalConfig,
  projectConfig?: JestProjectConfig,
): Promise<void> {
  const previous = getRunState();
  // The host can be gone although our state is not (stopped by a signal, or by another owner).
  if (previous && currentPoolHost() === previous.host) {
    await previous.host.refresh();
    exportToWorkers(previous);
    return;
  }
  const watch = Boolean(globalConfig.watch || globalConfig.watchAll);
  // Jest has no options for a globalSetup module: an explicit config file comes through the
  // environment (relative to the rootDir); otherwise the file is discovered from the rootDir up.
  const { config, root, file } = await loadConfig({
    cwd: projectConfig?.rootDir ?? globalConfig.rootDir,
    configFile: process.env[ENV_CONFIG] || undefined,
  });
  const { url, token, region, host } = await acquirePoolHost(config, {
    root,
    // Watch reruns (refresh above) read the config file again, so its edits apply.
    configFile: file,
    watch,
  });
  const state = { url, token, region, host, watch };
  setRunState(state);
  exportToWorkers(state);
}

/**
 * What `PoolClient.fromEnv()` reads in each worker; the region feeds `lambda.sdkConfig()`, the
 * request deadline is lifted while a function is debugged.
 */
function exportToWorkers({
  url,
  token,
  region,
  host,
}: Pick<JestRunState, 'url' | 'token' | 'region' | 'host'>): void {
  process.env[ENV_URL] = url;
  process.env[ENV_TOKEN] = token;
  process.env[ENV_REGION] = region;
  const requestTimeoutMs = host.clientRequestTimeoutMs();
  if (requestTimeoutMs) process.env[ENV_REQUEST_TIMEOUT] = String(requestTimeoutMs);
  else delete process.env[ENV_REQUEST_TIMEOUT];
}
