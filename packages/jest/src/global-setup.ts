/**
 * The preset's `globalSetup`: starts the pool and its server in Jest's main process, once per run,
 * and hands `{ url, token }` to the workers through `process.env` (Jest forks its workers after
 * globalSetup with `{ ...process.env }`; docs/runner-integration.md#jest-global-setup).
 *
 * In watch mode Jest calls this again on every rerun; the pool is then kept and only refreshed, so
 * changed code gets fresh instances and unchanged functions stay warm.
 */
import { acquirePoolHost, currentPoolHost, loadConfig } from '@lambda-testkit/core';
import type { JestGlobalConfig, JestProjectConfig } from './jest-types.ts';
import { getRunState, setRunState } from './run-state.ts';

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
    exportToWorkers(previous.url, previous.token);
    return;
  }
  const watch = Boolean(globalConfig.watch || globalConfig.watchAll);
  // Jest has no options for a globalSetup module: an explicit config file comes through the
  // environment (relative to the rootDir); otherwise the file is discovered from the rootDir up.
  const { config, root, file } = await loadConfig({
    cwd: projectConfig?.rootDir ?? globalConfig.rootDir,
    configFile: process.env[ENV_CONFIG] || undefined,
  });
  const { url, token, host } = await acquirePoolHost(config, {
    root,
    // Watch reruns (refresh above) read the config file again, so its edits apply.
    configFile: file,
    watch,
  });
  setRunState({ url, token, host, watch });
  exportToWorkers(url, token);
}

function exportToWorkers(url: string, token: string): void {
  process.env.LAMBDA_TESTKIT_URL = url;
  process.env.LAMBDA_TESTKIT_TOKEN = token;
}
