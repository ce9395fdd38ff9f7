/**
 * Resolves a handler string `dir/module.fn.nested` to a function
 * (docs/lambda-apis.md#node-runtime-client): the module is `<task root>/dir/module` tried as is, then
 * `.js`, `.mjs`, `.cjs` (each through `import()`, which loads CommonJS and ESM alike), then Node's CommonJS
 * resolution from the task root (which honours NODE_PATH, so layer packages under /opt resolve).
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RuntimeError, RuntimeErrors } from './errors.ts';

export type Handler = (...args: unknown[]) => unknown;

export const STREAMING_SYMBOL = Symbol.for('aws.lambda.runtime.handler.streaming');
export const HIGH_WATER_MARK_SYMBOL = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');

export interface LoadedHandler {
  handler: Handler;
  streaming: boolean;
  highWaterMark?: number;
}

interface ParsedHandler {
  moduleRoot: string;
  moduleName: string;
  functionPath: string;
}

export function parseHandlerString(handlerString: string): ParsedHandler {
  if (handlerString.includes('..')) {
    throw new RuntimeError(
      RuntimeErrors.malformedHandlerName,
      `'${handlerString}' is not a valid handler name. Use a path inside the task root, without '..'.`,
    );
  }
  const file = basename(handlerString);
  const dot = file.indexOf('.');
  if (dot <= 0 || dot === file.length - 1) {
    throw new RuntimeError(
      RuntimeErrors.malformedHandlerName,
      `Bad handler '${handlerString}': expected <file>.<export>, e.g. index.handler.`,
    );
  }
  return {
    moduleRoot: handlerString.slice(0, handlerString.length - file.length).replace(/\/$/, ''),
    moduleName: file.slice(0, dot),
    functionPath: file.slice(dot + 1),
  };
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

async function loadModule(taskRoot: string, parsed: ParsedHandler): Promise<unknown> {
  const base = resolve(taskRoot, parsed.moduleRoot, parsed.moduleName);
  try {
    for (const ext of ['', '.js', '.mjs', '.cjs']) {
      if (isFile(base + ext)) return await import(pathToFileURL(base + ext).href);
    }
    const require = createRequire(join(taskRoot, 'noop.js'));
    const resolved = require.resolve(parsed.moduleName, {
      paths: [taskRoot, join(taskRoot, parsed.moduleRoot)],
    });
    return require(resolved) as unknown;
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new RuntimeError(RuntimeErrors.userCodeSyntax, String(error), {
        cause: error,
        ...stackOf(error),
      });
    }
    // Only CommonJS's MODULE_NOT_FOUND becomes Runtime.ImportModuleError, as in AWS's Node runtime: a
    // package missing for an ESM `import` (ERR_MODULE_NOT_FOUND) surfaces as the plain `Error` it is.
    if ((error as NodeJS.ErrnoException | undefined)?.code === 'MODULE_NOT_FOUND') {
      throw new RuntimeError(RuntimeErrors.importModule, String(error), { cause: error });
    }
    throw error;
  }
}

function stackOf(error: Error): { stack?: string } {
  return error.stack === undefined ? {} : { stack: error.stack };
}

function lookup(path: string, from: unknown): unknown {
  let current = from;
  for (const key of path.split('.')) {
    if (current === null || (typeof current !== 'object' && typeof current !== 'function')) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

export async function loadHandler(taskRoot: string, handlerString: string): Promise<LoadedHandler> {
  const parsed = parseHandlerString(handlerString);
  const mod = await loadModule(taskRoot, parsed);
  let handler = lookup(parsed.functionPath, mod);
  // A CommonJS module imported as ESM puts `module.exports` under `default`.
  if (handler === undefined && mod && typeof mod === 'object' && 'default' in mod) {
    handler = lookup(parsed.functionPath, mod.default);
  }
  if (handler === undefined || handler === null) {
    throw new RuntimeError(RuntimeErrors.handlerNotFound, `${handlerString} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw new RuntimeError(RuntimeErrors.handlerNotFound, `${handlerString} is not a function`);
  }
  const fn = handler as Handler & Record<symbol, unknown>;
  const mode = fn[STREAMING_SYMBOL];
  if (mode !== undefined && mode !== 'response') {
    throw new RuntimeError(RuntimeErrors.malformedStreamingHandler, 'Only response streaming is supported.');
  }
  const hwm = Number(fn[HIGH_WATER_MARK_SYMBOL]);
  return {
    handler: fn,
    streaming: mode === 'response',
    ...(Number.isFinite(hwm) && hwm > 0 ? { highWaterMark: hwm } : {}),
  };
}
