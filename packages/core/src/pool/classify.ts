/**
 * Classification of a classic RIE answer (docs/lambda-apis.md#rie-answers). RIE drops every header the
 * runtime sets (no `X-Amz-Function-Error`), so the outcome is read from the status and the body
 * shape alone.
 *
 * The rule for handler errors, and its known false positive: a 200 body is a function error when it
 * is a JSON object with string `errorType` and `errorMessage` whose other keys are all ones the
 * official runtime clients put in their error documents (`trace`, `stackTrace`, `requestId`,
 * `cause`). A handler that *returns* exactly such an object is indistinguishable from one that threw
 * in classic RIE, and is reported as a function error. An object with any other key (for example
 * `{ statusCode, errorType, errorMessage }`) is a successful result.
 */
import type { FunctionErrorBody, InvocationKind } from '../invocation.ts';

/** What came back from the instance. */
export interface RieAnswer {
  statusCode: number;
  body: Buffer;
}

export interface Classification {
  kind: InvocationKind;
  /** The bytes an Invoke API caller gets: the runtime's bytes, or an error document. */
  payload: Buffer;
  json?: unknown;
  functionError?: 'Unhandled';
  error?: FunctionErrorBody;
}

/** Keys the official runtime clients write into error documents (NRIC, PRIC, Java, Ruby). */
const ERROR_DOCUMENT_KEYS = new Set([
  'errorType',
  'errorMessage',
  'trace',
  'stackTrace',
  'requestId',
  'cause',
]);

/**
 * Init errors the runtime clients report from `/runtime/init/error` (docs/lambda-apis.md#rie-answers,
 * docs/lambda-apis.md#node-runtime-client).
 */
const INIT_ERROR_TYPES = new Set([
  'Runtime.ImportModuleError',
  'Runtime.HandlerNotFound',
  'Runtime.UserCodeSyntaxError',
  'Runtime.MalformedHandlerName',
]);

/** `%d.00` in RIE, but accept any decimal so our own emulator's variants classify too. */
const TIMEOUT_TEXT = /^Task timed out after (\d+(?:\.\d+)?) seconds$/;

const EXIT_ERROR = 'Runtime.ExitError';
/** A runtime killed for going over its memory (our emulator; Lambda's own type for it). */
const OUT_OF_MEMORY = 'Runtime.OutOfMemory';
const TOO_LARGE = 'Function.ResponseSizeTooLarge';

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Node's `trace` or Python/Java/Ruby `stackTrace`, normalised to lines. */
function traceLines(doc: Record<string, unknown>): string[] | undefined {
  const raw = doc.trace ?? doc.stackTrace;
  if (!Array.isArray(raw)) return undefined;
  return raw.map((frame) => {
    if (typeof frame === 'string') return frame;
    // Old Python clients sent frames as [file, line, function, code].
    if (Array.isArray(frame) && frame.length >= 3) {
      const [file, line, fn, code] = frame as unknown[];
      const head = `File "${String(file)}", line ${String(line)}, in ${String(fn)}`;
      return code ? `${head}\n    ${String(code)}` : head;
    }
    return JSON.stringify(frame);
  });
}

function errorDocument(json: unknown, strict: boolean): FunctionErrorBody | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const doc = json as Record<string, unknown>;
  if (typeof doc.errorType !== 'string' || typeof doc.errorMessage !== 'string') return undefined;
  if (strict && Object.keys(doc).some((k) => !ERROR_DOCUMENT_KEYS.has(k))) return undefined;
  const trace = traceLines(doc);
  return trace
    ? { errorType: doc.errorType, errorMessage: doc.errorMessage, trace }
    : {
        errorType: doc.errorType,
        errorMessage: doc.errorMessage,
      };
}

function failure(kind: InvocationKind, error: FunctionErrorBody, payload?: Buffer): Classification {
  const body =
    payload ?? Buffer.from(JSON.stringify({ errorType: error.errorType, errorMessage: error.errorMessage }));
  return { kind, payload: body, json: parseJson(body), functionError: 'Unhandled', error };
}

/**
 * Classifies one RIE answer. Returns undefined for a status RIE only sends on its own faults
 * (400, 500, 504: a bad client context, an internal error); the caller reports those.
 * `requestId` is used to build the timeout document, which RIE sends as bare text.
 */
export function classifyAnswer(answer: RieAnswer, requestId: string): Classification | undefined {
  const { statusCode, body } = answer;
  const json = parseJson(body);

  if (statusCode === 200) {
    const text = body.length <= 128 ? body.toString('utf8').trim() : '';
    const timedOut = TIMEOUT_TEXT.exec(text);
    if (timedOut) {
      // The shape real Lambda returns for a timeout (docs/lambda-apis.md#rie-versus-lambda).
      return failure('timeout', {
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${requestId} Error: Task timed out after ${Number(timedOut[1]).toFixed(2)} seconds`,
      });
    }
    const error = errorDocument(json, true);
    if (error?.errorType === TOO_LARGE) return failure('oversized', error, body);
    if (error && INIT_ERROR_TYPES.has(error.errorType)) return failure('init', error, body);
    if (error) return failure('handled', error, body);
    return json === undefined ? { kind: 'success', payload: body } : { kind: 'success', payload: body, json };
  }

  if (statusCode === 502) {
    const error = errorDocument(json, false);
    if (error?.errorType === EXIT_ERROR || error?.errorType === OUT_OF_MEMORY)
      return failure('exit', error, body);
    if (error) return failure('init', error, body);
    // RIE before April 2023 (aws-lambda-runtime-interface-emulator#86) sent an empty 502 on a crash.
    const text = body.toString('utf8').trim();
    return failure('exit', {
      errorType: EXIT_ERROR,
      errorMessage: `RequestId: ${requestId} Error: Runtime exited ${text ? `with error: ${text}` : 'without providing a reason'}`,
    });
  }

  return undefined;
}
