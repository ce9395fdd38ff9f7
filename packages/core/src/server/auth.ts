/**
 * The run token: how the pool server tells this run's workers from anything else on the machine.
 *
 * Two transports: `Authorization: Bearer <token>` (the fixture), and the AWS SDK's SigV4 header,
 * where the token is the access key id (`Credential=<token>/<date>/<region>/lambda/aws4_request`).
 * The signature is not verified: the token is the secret, and it never leaves loopback.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url (no `/`, so it is a valid SigV4 credential scope segment). */
export function createRunToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The token a request presents, or `undefined` when it presents none. */
export function presentedToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (bearer) return bearer[1];
  if (!/^AWS4-HMAC-SHA256\s/i.test(authorization)) return undefined;
  return sigV4AccessKeyId(authorization);
}

/**
 * The access key id of a SigV4 `Authorization` header, found in one pass over its comma- or
 * space-separated parts. A backtracking regex (`.*?Credential=([^/,]+)/`) took time quadratic in the
 * header's length, and the header is read before the token is known to be right.
 */
function sigV4AccessKeyId(authorization: string): string | undefined {
  for (const part of authorization.split(/[\s,]+/)) {
    if (part.slice(0, 11).toLowerCase() !== 'credential=') continue;
    const slash = part.indexOf('/', 11);
    return slash > 11 ? part.slice(11, slash) : undefined;
  }
  return undefined;
}

/**
 * A check of presented tokens against `expected`, in constant time: hashing first hides the length
 * of the expected token too. Its digest is taken once here, not on every request.
 */
export function tokenMatcher(expected: string): (presented: string) => boolean {
  const wanted = hash('sha256', expected, 'buffer');
  return (presented) => timingSafeEqual(hash('sha256', presented, 'buffer'), wanted);
}
