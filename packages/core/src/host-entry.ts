// `@lambda-testkit/core/host`: what the runner adapters' main-process modules import (the Vitest
// plugin, global setups, reporters): the configuration and the run's pool host. Unlike the root entry it does not
// load every backend: the host loads the backend a run chooses when it starts (host/select-backend.ts),
// so a run on the process backend never imports Testcontainers or the Kubernetes client, which take
// seconds on a busy machine. The names are also exported by `@lambda-testkit/core`.
export type { LoadConfigOptions, LoadedConfig } from './config/index.ts';
export { loadConfig } from './config/index.ts';
export type { TestkitConfig } from './config.ts';
export { defineConfig } from './config.ts';
export type {
  AcquirePoolHostOptions,
  PoolHostHandle,
  ReleasePoolHostOptions,
  SummaryRow,
} from './host/index.ts';
export {
  acquirePoolHost,
  currentPoolHost,
  formatSummary,
  PoolHost,
  poolHostSummary,
  releasePoolHost,
} from './host/index.ts';
