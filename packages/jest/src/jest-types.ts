/**
 * The few fields of Jest's configs this adapter reads, typed structurally so one build serves
 * Jest 29 and 30 without depending on `@jest/types` (which the user's Jest brings, in its own version).
 */

export interface JestGlobalConfig {
  rootDir: string;
  watch: boolean;
  watchAll: boolean;
}

export interface JestProjectConfig {
  rootDir: string;
}
