// Barrel of the warm pool: answer classification, the invoke client and the pool itself.

export { RIE_INVOKE_PATH } from '../emulator/protocol.ts';
export type { Classification, RieAnswer } from './classify.ts';
export { classifyAnswer } from './classify.ts';
export type { DurationSummary } from './duration-summary.ts';
export type { InstanceClientOptions, InvokeAttempt, InvokeRequest } from './invoke-client.ts';
export { InstanceClient } from './invoke-client.ts';
export type * from './pool-types.ts';
export { WarmPool } from './warm-pool.ts';
