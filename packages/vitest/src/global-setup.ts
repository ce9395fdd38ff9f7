/**
 * The global setup (`@lambda-testkit/vitest/global-setup`): starts or joins the run's pool host,
 * provides `{ url, token, region }` to workers, and stops everything on teardown.
 *
 * Usable without the plugin: `test: { globalSetup: ['@lambda-testkit/vitest/global-setup'] }`
 * (the functions then come from `lambda-testkit.config.*`).
 */
import { acquirePoolHost, loadConfig, type PoolHost, releasePoolHost } from '@lambda-testkit/core/host';
import type { TestProject } from 'vitest/node';
import { pluginOptionsFor } from './plugin-options.ts';
import { PROVIDE_KEY } from './provided-context.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = project.config.root;
  const fromPlugin = pluginOptionsFor(root);
  const {
    config,
    root: configRoot,
    file,
  } = await loadConfig({
    cwd: root,
    configFile: fromPlugin?.configFile,
    inline: fromPlugin?.config,
  });
  const { url, token, region, host } = await acquirePoolHost(config, {
    root: configRoot,
    // A lambda-testkit.config.* edit restarts nothing: each watch rerun reads the file again.
    configFile: file,
    log: (line) => project.vitest.logger.log(`[lambda-testkit] ${line}`),
  });
  const requestTimeoutMs = host.clientRequestTimeoutMs();
  project.provide(PROVIDE_KEY, { url, token, region, ...(requestTimeoutMs ? { requestTimeoutMs } : {}) });
  rerunOnSourceEdits(project, host);

  // A config edit restarts Vitest: teardown runs, then setup again
  // (docs/runner-integration.md#config-restarts). Keep the instances warm across that gap; the next setup
  // adopts the host from globalThis.
  let restarting = false;
  project.vitest.onServerRestart(() => {
    restarting = true;
  });
  // Watch reruns don't rerun globalSetup: re-resolve the functions so edited code gets a new
  // deploy id (and a fresh instance on its next call). Not destructured: it needs `this`
  // (docs/runner-integration.md#provide-and-inject).
  project.onTestsRerun(async () => {
    await host.refresh();
    rerunOnSourceEdits(project, host);
  });

  return async () => {
    await releasePoolHost({ keepAlive: restarting });
  };
}

/**
 * Makes an edit to a function's code, a layer, the config file or a template start a rerun in
 * watch mode. Test files rarely import the handlers they invoke, so Vitest's module graph would
 * never see those edits. Vitest matches `forceRerunTriggers` on every file change (3.2 to 5), so
 * extending it here, once the functions are known, is enough; paths outside the root are added
 * to the watcher.
 */
function rerunOnSourceEdits(project: TestProject, host: PoolHost): void {
  const vitest = project.vitest;
  if (!vitest.config.watch) return;
  const triggers = vitest.config.forceRerunTriggers;
  const paths = host.watchedPaths().map((path) => path.replaceAll('\\', '/'));
  const added = paths.flatMap((path) => [path, `${path}/**`]).filter((glob) => !triggers.includes(glob));
  if (added.length === 0) return;
  triggers.push(...added);
  vitest.vite.watcher.add(paths);
}
