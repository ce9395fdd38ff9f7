/**
 * The preset's `globalTeardown`: stops the pool at the end of the run. In watch mode it keeps the
 * instances warm for the next rerun (as @shelf/jest-dynamodb does,
 * docs/runner-integration.md#jest-watch-mode) and stops them when the watcher is killed.
 */

import { ENV_REGION, ENV_TOKEN, ENV_URL } from '@lambda-testkit/core/client';
import { releasePoolHost } from '@lambda-testkit/core/host';
import type { JestGlobalConfig } from './jest-types.ts';
import { getRunState, setRunState } from './run-state.ts';

let signalsHooked = false;

export default async function globalTeardown(globalConfig: JestGlobalConfig): Promise<void> {
  if (!getRunState()) return;
  if (globalConfig.watch || globalConfig.watchAll) {
    // Keep our reference: the next rerun's globalSetup finds the state and only refreshes.
    stopOnSignal();
    return;
  }
  setRunState(undefined);
  delete process.env[ENV_URL];
  delete process.env[ENV_TOKEN];
  delete process.env[ENV_REGION];
  await releasePoolHost();
}

/**
 * A watcher ended by SIGINT/SIGTERM stops its instances first, then exits as the signal asks.
 * (Jest's own `q`/Ctrl-C keys call `process.exit()`, where nothing async can run: the backends'
 * sweep of instances whose owning run is gone cleans up after that.)
 */
function stopOnSignal(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      setRunState(undefined);
      releasePoolHost({ keepAlive: false }).finally(() => process.kill(process.pid, signal));
    });
  }
}
