/**
 * The Node runtime's error names and its error document `{errorType, errorMessage, trace}`
 * (docs/lambda-apis.md#error-documents). Runtime-made errors are named `Runtime.<Reason>`.
 */

export interface ErrorDocument {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

export class RuntimeError extends Error {
  constructor(name: string, message: string, options?: { cause?: unknown; stack?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = name;
    if (options?.stack !== undefined) this.stack = options.stack;
  }
}

export const RuntimeErrors = {
  importModule: 'Runtime.ImportModuleError',
  handlerNotFound: 'Runtime.HandlerNotFound',
  malformedHandlerName: 'Runtime.MalformedHandlerName',
  userCodeSyntax: 'Runtime.UserCodeSyntaxError',
  callbackHandlerDeprecated: 'Runtime.CallbackHandlerDeprecated',
  unhandledPromiseRejection: 'Runtime.UnhandledPromiseRejection',
  nodeJsExit: 'Runtime.NodeJsExit',
  malformedStreamingHandler: 'Runtime.MalformedStreamingHandler',
  invalidStreamingOperation: 'Runtime.InvalidStreamingOperation',
  jsonStringify: 'Runtime.JSONStringifyError',
  platform: 'Runtime.PlatformError',
} as const;

/** An Error keeps its name, message and stack lines; any other thrown value is described by its type. */
export function toErrorDocument(value: unknown): ErrorDocument {
  try {
    if (value instanceof Error) {
      return {
        errorType: String(value.name),
        errorMessage: String(value.message),
        trace: typeof value.stack === 'string' ? value.stack.split('\n') : [],
      };
    }
    return { errorType: typeof value, errorMessage: String(value), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage: 'The handler failed with a value whose name, message or stack could not be read',
      trace: [],
    };
  }
}
