// The pool server (Lambda Invoke API on loopback) and the ref-counted pool host around it.
export { createRunToken } from './auth.ts';
export type { AcquirePoolHostOptions, PoolHostHandle, ReleasePoolHostOptions } from './pool-host.ts';
export {
  acquirePoolHost,
  currentPoolHost,
  ENV_BACKEND,
  ENV_IMAGE,
  PoolHost,
  poolHostSummary,
  releasePoolHost,
} from './pool-host.ts';
export type { PoolServerOptions, ServedPool } from './pool-server.ts';
export { logTail, PoolServer } from './pool-server.ts';
export type { SummaryRow, SummarySource } from './summary.ts';
export { formatSummary, summaryRows } from './summary.ts';
