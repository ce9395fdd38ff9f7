// Config-file discovery, loading and validation (shared by the Vitest plugin and the Jest preset).
export type { LoadConfigOptions, LoadedConfig } from './load-config.ts';
export { CONFIG_FILE_NAMES, findConfigFile, loadConfig } from './load-config.ts';
export { validateConfig } from './validate-config.ts';
