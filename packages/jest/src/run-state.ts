/**
 * What globalSetup leaves for the reporter and globalTeardown of the same Jest process.
 *
 * Kept on `globalThis` under a `Symbol.for` key, not in a module variable: Jest loads globalSetup,
 * globalTeardown and reporters each on its own (native require or import, inside a transform hook),
 * so a module-level variable is not guaranteed to be the same one for all three. In watch mode the
 * state also carries the warm pool from one rerun to the next (jestjs/jest#6800: globalSetup runs on
 * every rerun and the maintainers advise tracking "already ran" yourself).
 */
import type { PoolHost } from '@lambda-testkit/core/host';

export interface JestRunState {
  url: string;
  token: string;
  /** The configured region, handed to workers for `lambda.sdkConfig()`. */
  region: string;
  host: PoolHost;
  /** The run was started by `jest --watch` or `--watchAll`: the pool stays warm between reruns. */
  watch: boolean;
}

const KEY = Symbol.for('lambda-testkit.jest.run-state.v1');

type Holder = { [KEY]?: JestRunState };

export function getRunState(): JestRunState | undefined {
  return (globalThis as Holder)[KEY];
}

export function setRunState(state: JestRunState | undefined): void {
  if (state) (globalThis as Holder)[KEY] = state;
  else delete (globalThis as Holder)[KEY];
}
