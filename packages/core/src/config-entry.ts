// `@lambda-testkit/core/config`: `defineConfig` and the configuration's types, for modules that load
// while a runner reads its own config (the Vitest plugin): it imports nothing but `config.ts`, whose
// imports are types only, so reading a runner config never loads the host, its pool or their
// dependencies (docs/architecture.md#loading-on-first-use). Also exported by `/host` and the root entry.
export type { BackendChoice, KubernetesConfig, NetworkRef, TestkitConfig } from './config.ts';
export { defineConfig } from './config.ts';
