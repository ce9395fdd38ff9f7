/**
 * Reading the end of a streamed answer: the emulator's streaming route reports how the invocation
 * ended in trailers (`StreamTrailers`, docs/lambda-apis.md#response-streaming), after the last
 * chunk. This turns them into the pool's outcome fields.
 */
import { StreamTrailers } from '../emulator/protocol.ts';
import type { FunctionErrorBody, InvocationKind } from '../invocation.ts';

const KINDS: ReadonlySet<string> = new Set<InvocationKind>([
  'success',
  'handled',
  'timeout',
  'exit',
  'init',
  'oversized',
]);

export interface StreamEnd {
  kind: InvocationKind;
  requestId: string | undefined;
  error?: FunctionErrorBody;
}

/** The outcome the trailers describe; undefined when they are missing or say nothing known. */
export function readStreamTrailers(
  trailers: Record<string, string | string[] | undefined>,
): StreamEnd | undefined {
  const value = (name: string) => {
    const v = trailers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const kind = value(StreamTrailers.kind);
  if (kind === undefined || !KINDS.has(kind)) return undefined;
  const requestId = value(StreamTrailers.requestId);
  if (kind === 'success') return { kind: 'success', requestId };
  const errorType = value(StreamTrailers.errorType) ?? 'Runtime.Unknown';
  const body = Buffer.from(value(StreamTrailers.errorBody) ?? '', 'base64').toString('utf8');
  return { kind: kind as InvocationKind, requestId, error: errorDocument(body, errorType) };
}

function errorDocument(text: string, errorType: string): FunctionErrorBody {
  try {
    const doc = JSON.parse(text) as Record<string, unknown>;
    const trace = Array.isArray(doc.trace)
      ? doc.trace
      : Array.isArray(doc.stackTrace)
        ? doc.stackTrace
        : undefined;
    return {
      errorType: typeof doc.errorType === 'string' ? doc.errorType : errorType,
      errorMessage: typeof doc.errorMessage === 'string' ? doc.errorMessage : text,
      ...(trace ? { trace: trace.map(String) } : {}),
    };
  } catch {
    return { errorType, errorMessage: text };
  }
}
