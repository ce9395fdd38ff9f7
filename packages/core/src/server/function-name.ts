/**
 * The `{FunctionName}` of an Invoke API path: a name, a full ARN or a partial ARN, optionally
 * with a `:qualifier` (docs/lambda-protocol.md#invoke-api-requests). The SDK percent-encodes it (`:` →
 * `%3A`).
 */

export interface FunctionRef {
  name: string;
  qualifier?: string;
}

const FULL_ARN = /^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:([^:]+)(?::(.+))?$/;
const PARTIAL_ARN = /^\d{12}:function:([^:]+)(?::(.+))?$/;
const NAME = /^([^:]+)(?::(.+))?$/;

/** Parses an already-decoded FunctionName; `undefined` when it has no recognisable shape. */
export function parseFunctionRef(value: string): FunctionRef | undefined {
  const m = FULL_ARN.exec(value) ?? PARTIAL_ARN.exec(value) ?? NAME.exec(value);
  if (!m?.[1]) return undefined;
  return m[2] ? { name: m[1], qualifier: m[2] } : { name: m[1] };
}
