/**
 * `X-Amz-Client-Context`: checked and normalised at the pool, so that what the pool accepts the
 * instance accepts too.
 *
 * Why normalise: the instance (AWS's RIE, or our emulator) decodes the header with a strict base64
 * decoder (padding required) and forwards the decoded JSON as the `Lambda-Runtime-Client-Context`
 * header, where a line break cannot go (docs/lambda-apis.md#rie-request-headers). It answers
 * anything else with a 500, which the pool must treat as a broken instance: the warm instance is
 * discarded and the next call pays a cold start. So the pool re-encodes every context it accepts as
 * padded base64 of single-line JSON, and refuses with 400 what is not base64 JSON at all.
 */

/** The Invoke API's limit on the client context (AWS Lambda API reference, Invoke, `ClientContext`). */
export const CLIENT_CONTEXT_LIMIT_BYTES = 3583;

/** Standard base64 alphabet, padding optional (SDKs pad; hand-made headers often do not). */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export type ClientContextCheck = { ok: true; value: string } | { ok: false; problem: string };

/** Checks a client context header and returns the form every instance accepts. */
export function normaliseClientContext(header: string): ClientContextCheck {
  const unpadded = header.replace(/=+$/, '');
  // A length of 1 mod 4 cannot come from any byte string; padding must complete the last group.
  const paddingFits = header.length === unpadded.length || header.length % 4 === 0;
  if (!BASE64.test(header) || unpadded.length % 4 === 1 || !paddingFits) {
    return {
      ok: false,
      problem:
        'X-Amz-Client-Context must be base64 (standard alphabet) of the client context JSON; ' +
        'send Buffer.from(JSON.stringify(context)).toString("base64").',
    };
  }
  let text: string;
  try {
    // Fatal: invalid UTF-8 would otherwise turn into U+FFFD and be forwarded changed.
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(unpadded, 'base64'));
    JSON.parse(text);
  } catch (cause) {
    return {
      ok: false,
      problem: `X-Amz-Client-Context must decode to UTF-8 JSON (the client context object): ${(cause as Error).message}.`,
    };
  }
  const compact = compactJson(text);
  if (Buffer.byteLength(compact) > CLIENT_CONTEXT_LIMIT_BYTES) {
    return {
      ok: false,
      problem: `X-Amz-Client-Context must be at most ${CLIENT_CONTEXT_LIMIT_BYTES} bytes once decoded.`,
    };
  }
  return { ok: true, value: Buffer.from(compact, 'utf8').toString('base64') };
}

/**
 * Valid JSON text without its insignificant whitespace, and with DEL escaped (the one control
 * character JSON lets through raw, which a header cannot carry). Nothing else changes: no number or
 * string is re-serialised. Safe because in valid JSON whitespace only ever sits between tokens that
 * a structural character already separates, and raw control characters never sit inside strings.
 */
export function compactJson(text: string): string {
  let out = '';
  let inString = false;
  let escaped = false;
  for (const ch of text) {
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      out += ch === '\x7f' ? '\\u007f' : ch;
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else if (ch !== ' ' && ch !== '\t' && ch !== '\n' && ch !== '\r') {
      out += ch;
    }
  }
  return out;
}
