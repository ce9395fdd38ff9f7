/**
 * ESM imports of packages in layers. CommonJS `require` searches NODE_PATH
 * (`/opt/nodejs/node<major>/node_modules:/opt/nodejs/node_modules:...`, set by the sandbox), but
 * ESM resolution ignores NODE_PATH. AWS documents that the Node runtimes from 18 on resolve ES
 * module dependencies from layers (knowledge-center article "lambda-import-module-error-nodejs";
 * how it is done is unverified: docs/lambda-apis.md#open-questions). We do what is reasonable:
 * when a bare specifier is not found the normal way, retry it from each `…/node_modules` folder of
 * NODE_PATH, in order. Nothing changes for imports that resolve normally.
 */
import { registerHooks } from 'node:module';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';

function isBareSpecifier(specifier: string): boolean {
  return !/^(?:\.{1,2}\/|\/|[a-z][a-z0-9+.-]*:)/i.test(specifier);
}

export function installLayerResolution(nodePath: string | undefined): void {
  const folders = (nodePath ?? '')
    .split(':')
    .filter((dir) => isAbsolute(dir) && basename(dir) === 'node_modules');
  if (folders.length === 0) return;
  // Resolving from a file beside `node_modules` makes that folder the first one searched.
  const parents = folders.map((dir) => pathToFileURL(join(dirname(dir), 'layer-resolution.mjs')).href);
  registerHooks({
    resolve(specifier, context, nextResolve) {
      try {
        return nextResolve(specifier, context);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !isBareSpecifier(specifier)) {
          throw error;
        }
        for (const parentURL of parents) {
          try {
            return nextResolve(specifier, { ...context, parentURL });
          } catch {
            // Not in this layer folder; try the next one.
          }
        }
        throw error;
      }
    },
  });
}
