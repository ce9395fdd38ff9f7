/**
 * The global setup (`@lambda-testkit/vitest/global-setup`): starts or joins the run's pool host,
 * provides `{ url, token, region }` to workers, and stops everything on teardown.
 *
 * Usable without the plugin: `test: { globalSetup: ['@lambda-testkit/vitest/global-setup'] }`
 * (the functions then come from `lambda-testkit.config.*`).
 */
import { acquirePoolHost, loadConfig, releasePoolHost } from '@lambda-testkit/core';
import type { TestProject } from 'vitest/node';
import { pluginOptionsFor } from './plugin-options.ts';
import { PROVIDE_KEY } from './provided-context.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = project.config.root;
  const fromPlugin = pluginOptionsFor(root);
  const { config, root: configRoot } = await loadConfig({
    cwd: root,
    configFile: fromPlugin?.configFile,
    inline: fromPlugin?.config,
  });
  const { url, token, region, host } = await acquirePoolHost(config, {
    root: configRoot,
    log: (line) => project.vitest.logger.log(`[lambda-testkit] ${line}`),
  });
  project.provide(PROVIDE_KEY, { url, token, region });

  // A config edit restarts Vitest: teardown runs, then setup again (runner-integration.md §1.3).
  // Keep the instances warm across that gap; the next setup adopts the host from globalThis.
  let restarting = false;
  project.vitest.onServerRestart(() => {
    restarting = true;
  });
  // Watch reruns don't rerun globalSetup: re-resolve the functions so edited code gets a new
  // deploy id (and a fresh instance on its next call). Not destructured: it needs `this` (§1.2).
  project.onTestsRerun(async () => {
    await host.refresh();
  });

  return async () => {
    await releasePoolHost({ keepAlive: restarting });
  };
}
