/**
 * The `{FunctionName}` of an Invoke API path: a name, a full ARN or a partial ARN, optionally
 * with a `:qualifier` (docs/lambda-apis.md#invoke-api-requests). The SDK percent-encodes it (`:` →
 * `%3A`).
 */

export interface FunctionRef {
  name: string;
  qualifier?: string;
  /** The region of a full ARN. */
  region?: string;
  /** The account of a full or partial ARN. */
  accountId?: string;
}

const FULL_ARN =
  /^arn:aws[\w-]*:lambda:(?<region>[\w-]+):(?<account>\d{12}):function:(?<name>[^:]+)(?::(?<qualifier>.+))?$/;
const PARTIAL_ARN = /^(?<account>\d{12}):function:(?<name>[^:]+)(?::(?<qualifier>.+))?$/;
const NAME = /^(?<name>[^:]+)(?::(?<qualifier>.+))?$/;

/** Parses an already-decoded FunctionName; `undefined` when it has no recognisable shape. */
export function parseFunctionRef(value: string): FunctionRef | undefined {
  const groups = (FULL_ARN.exec(value) ?? PARTIAL_ARN.exec(value) ?? NAME.exec(value))?.groups;
  if (!groups?.name) return undefined;
  const ref: FunctionRef = { name: groups.name };
  if (groups.qualifier) ref.qualifier = groups.qualifier;
  if (groups.region) ref.region = groups.region;
  if (groups.account) ref.accountId = groups.account;
  return ref;
}
