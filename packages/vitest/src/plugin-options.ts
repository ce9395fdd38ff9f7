/**
 * Hands the plugin's options to the global setup. Both run in Vitest's main process but may be
 * loaded as different module instances (docs/runner-integration.md#vitest-global-setup), hence `globalThis`.
 */
import type { TestkitConfig } from '@lambda-testkit/core';

export interface PluginOptionsEntry {
  config?: TestkitConfig;
  configFile?: string;
}

const KEY = Symbol.for('lambda-testkit.vitest.plugin-options.v1');

function registry(): Map<string, PluginOptionsEntry> {
  const g = globalThis as { [KEY]?: Map<string, PluginOptionsEntry> };
  g[KEY] ??= new Map();
  return g[KEY];
}

export function registerPluginOptions(root: string, entry: PluginOptionsEntry): void {
  registry().set(root, entry);
}

/** The options registered for `root`, else the only registered ones, else none (config file). */
export function pluginOptionsFor(root: string): PluginOptionsEntry | undefined {
  const all = registry();
  return all.get(root) ?? (all.size === 1 ? [...all.values()][0] : undefined);
}
