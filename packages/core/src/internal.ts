// `@lambda-testkit/core/internal`: every folder's exports, the public ones included, for this
// repository's adapters, suites and benchmarks. No compatibility promise: names here may change in
// any release. Users import `@lambda-testkit/core` (see index.ts and docs/architecture.md).

export type * from './backend.ts';
export * from './backends/docker/index.ts';
export * from './backends/kubernetes/index.ts';
export * from './backends/process/index.ts';
export * from './config/index.ts';
export type { BackendChoice, KubernetesConfig, TestkitConfig } from './config.ts';
export { defineConfig } from './config.ts';
export * from './debug.ts';
export * from './errors.ts';
export type * from './function-spec.ts';
export { BUNDLE_LOADERS, DEFAULT_MEMORY_SIZE_MB, DEFAULT_TIMEOUT_SECONDS } from './function-spec.ts';
export * from './host/index.ts';
export type { InstanceLogs, InvocationLogs, LogCapture } from './instance-logs.ts';
export { LineLog } from './instance-logs.ts';
export type * from './invocation.ts';
export * from './packaging/index.ts';
export * from './pool/index.ts';
export * from './runtimes.ts';
export * from './sandbox-env.ts';
export * from './server/index.ts';
export * from './sources/index.ts';
