// Worker-side entry (`@lambda-testkit/core/client`): imports only undici and the errors module.
export * from '../errors.ts';
export type { PoolClientOptions } from './pool-client.ts';
export { ENV_REGION, ENV_REQUEST_TIMEOUT, ENV_TOKEN, ENV_URL, PoolClient } from './pool-client.ts';
export { SDK_SECRET_ACCESS_KEY } from './protocol.ts';
export type * from './types.ts';
