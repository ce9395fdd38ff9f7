/**
 * Which version a qualified Invoke runs, as Lambda decides it (docs/lambda-apis.md#qualifiers):
 * no qualifier or `$LATEST` runs `$LATEST`; an alias runs the version it points to; a version runs
 * itself. Here every one of them runs the current code; only the names differ.
 */

export type QualifierTarget =
  | { ok: true; executedVersion: string }
  | { ok: false; reason: 'unknown-qualifier' | 'other-account' | 'other-region' };

export interface QualifierRequest {
  qualifier: string | undefined;
  /** Region and account of an ARN the caller used, if any. */
  region?: string | undefined;
  accountId?: string | undefined;
}

export interface QualifierScope {
  /** The function's aliases: alias name → version. */
  functionAliases: Readonly<Record<string, string>> | undefined;
  region: string | undefined;
  accountId: string | undefined;
}

export function resolveQualifier(request: QualifierRequest, scope: QualifierScope): QualifierTarget {
  if (
    request.accountId !== undefined &&
    scope.accountId !== undefined &&
    request.accountId !== scope.accountId
  ) {
    return { ok: false, reason: 'other-account' };
  }
  if (request.region !== undefined && scope.region !== undefined && request.region !== scope.region) {
    return { ok: false, reason: 'other-region' };
  }
  const { qualifier } = request;
  if (qualifier === undefined || qualifier === '$LATEST') return { ok: true, executedVersion: '$LATEST' };
  const aliases = scope.functionAliases ?? {};
  const aliased = Object.hasOwn(aliases, qualifier) ? aliases[qualifier] : undefined;
  if (aliased !== undefined) return { ok: true, executedVersion: aliased };
  if (Object.values(aliases).includes(qualifier)) return { ok: true, executedVersion: qualifier };
  return { ok: false, reason: 'unknown-qualifier' };
}
