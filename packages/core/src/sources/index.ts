// Where function specs come from: the config's `functions` map (and, as they land, TypeScript
// entries, SAM templates and CDK assemblies). The pool server calls `loadFunctionSpecs`.
import type { TestkitConfig } from '../config.ts';
import type { FunctionSpec } from '../function-spec.ts';

/** All functions the configuration declares, by name, in declaration order. */
export async function loadFunctionSpecs(config: TestkitConfig, _root: string): Promise<FunctionSpec[]> {
  return Object.entries(config.functions ?? {}).map(([name, declaration]) => ({ name, ...declaration }));
}
