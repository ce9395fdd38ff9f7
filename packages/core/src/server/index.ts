// The HTTP layer: the pool server (Lambda Invoke API on loopback, bearer token) and its helpers.
export { createRunToken } from './auth.ts';
export type { LeftOutFunctions, PoolServerOptions, ServedPool } from './pool-server.ts';
export { logTail, PoolServer } from './pool-server.ts';
