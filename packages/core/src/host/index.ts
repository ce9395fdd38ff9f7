// Barrel of the composition root: the pool host (backend + pool + server for one run), its
// process-wide registry, backend selection, environment overrides and the end-of-run summary.
export { architectureWarning } from './architecture.ts';
export {
  ENV_BACKEND,
  ENV_DEBUG,
  ENV_DEBUG_WAIT,
  ENV_IMAGE,
  ENV_KUBERNETES_NAMESPACE,
} from './env-overrides.ts';
export type { PoolHostHandle, ReleasePoolHostOptions } from './host-registry.ts';
export { acquirePoolHost, currentPoolHost, poolHostSummary, releasePoolHost } from './host-registry.ts';
export type { AcquirePoolHostOptions } from './pool-host.ts';
export { PoolHost } from './pool-host.ts';
export { type SelectBackendOptions, selectBackend } from './select-backend.ts';
export type { SummaryRow, SummarySource } from './summary.ts';
export { formatSummary, summaryRows } from './summary.ts';
