import { describe, expect, it } from 'vitest';
import { createRunToken, presentedToken, tokenMatcher } from './auth.ts';

describe('presentedToken', () => {
  const token = createRunToken();

  it('reads a bearer token and the access key id of a SigV4 header', () => {
    expect(presentedToken(`Bearer ${token}`)).toBe(token);
    expect(
      presentedToken(
        `AWS4-HMAC-SHA256 Credential=${token}/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00`,
      ),
    ).toBe(token);
    expect(presentedToken(`aws4-hmac-sha256 SignedHeaders=host,credential=${token}/x, Signature=00`)).toBe(
      token,
    );
    expect(presentedToken(undefined)).toBeUndefined();
    expect(presentedToken('Basic abc')).toBeUndefined();
    expect(presentedToken('AWS4-HMAC-SHA256 Credential=no-slash, Signature=00')).toBeUndefined();
  });

  it('parses a crafted SigV4 header in time linear in its length', () => {
    // `Credential=` repeated with no `/` (220 KB): the backtracking regex it replaces took about
    // (n/800)^2 x 14 ms here, some 7 s (over a minute on a loaded machine), blocking the event loop; a linear parse takes about a
    // millisecond. The bound only tells the two apart, with a wide margin for a loaded machine.
    const crafted = `AWS4-HMAC-SHA256 ${'Credential='.repeat(20_000)}`;
    const started = performance.now();
    expect(presentedToken(crafted)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('compares tokens of any length', () => {
    const matches = tokenMatcher(token);
    expect(matches(token)).toBe(true);
    expect(matches(`${token}x`)).toBe(false);
    expect(matches('')).toBe(false);
    expect(tokenMatcher(createRunToken())(token)).toBe(false);
  });
});
