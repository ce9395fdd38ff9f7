/**
 * The run token: how the pool server tells this run's workers from anything else on the machine.
 *
 * Two transports: `Authorization: Bearer <token>` (the fixture), and the AWS SDK's SigV4 header,
 * where the token is the access key id (`Credential=<token>/<date>/<region>/lambda/aws4_request`).
 * The signature is not verified: the token is the secret, and it never leaves loopback.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url (no `/`, so it is a valid SigV4 credential scope segment). */
export function createRunToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The token a request presents, or `undefined` when it presents none. */
export function presentedToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (bearer) return bearer[1];
  const sigv4 = /^AWS4-HMAC-SHA256\s.*?Credential=([^/,\s]+)\//i.exec(authorization);
  return sigv4?.[1];
}

/** Constant-time comparison; hashing first hides the length of the expected token too. */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
