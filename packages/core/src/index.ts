export type * from './backend.ts';
export type { BackendChoice, TestkitConfig } from './config.ts';
export { defineConfig } from './config.ts';
export * from './errors.ts';
export type * from './function-spec.ts';
export { DEFAULT_MEMORY_SIZE_MB, DEFAULT_TIMEOUT_SECONDS } from './function-spec.ts';
export type { InstanceLogs, InvocationLogs, LogCapture } from './instance-logs.ts';
export { LineLog } from './instance-logs.ts';
export type * from './invocation.ts';
