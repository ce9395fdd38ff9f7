import { describe, expect, it } from 'vitest';
import { decodeClientContext } from '../emulator/invoke-server.ts';
import { CLIENT_CONTEXT_LIMIT_BYTES, compactJson, normaliseClientContext } from './client-context.ts';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** What an instance does with the header (emulator/invoke-server.ts, like RIE): strict base64, header-safe bytes. */
function instanceAccepts(header: string): string | undefined {
  const decoded = decodeClientContext(header);
  if (!decoded || !/^[\t\x20-\x7e\x80-\xff]*$/.test(decoded.toString('latin1'))) return undefined;
  return decoded.toString('utf8');
}

function normalised(header: string): string {
  const check = normaliseClientContext(header);
  if (!check.ok) throw new Error(`refused: ${check.problem}`);
  return check.value;
}

describe('normaliseClientContext', () => {
  it('re-pads unpadded base64, which an instance would answer with a 500', () => {
    const unpadded = b64('{"custom":{"a":12}}').replace(/=+$/, '');
    expect(unpadded.length % 4).not.toBe(0);
    expect(instanceAccepts(unpadded)).toBeUndefined();
    expect(instanceAccepts(normalised(unpadded))).toBe('{"custom":{"a":12}}');
  });

  it('puts JSON with line breaks on one line without touching its values', () => {
    const text =
      '{\r\n  "custom": {\n\t"note": "a b\\nc", "n": 1.50, "big": 12345678901234567890\n  },\n  "env": {}\n}';
    expect(instanceAccepts(b64(text))).toBeUndefined();
    const value = instanceAccepts(normalised(b64(text)));
    expect(value).toBe('{"custom":{"note":"a b\\nc","n":1.50,"big":12345678901234567890},"env":{}}');
    expect(JSON.parse(value ?? '')).toEqual(JSON.parse(text));
  });

  it('escapes DEL, the one control character JSON lets through raw', () => {
    const text = '{"k":"a\x7fb"}';
    const value = instanceAccepts(normalised(b64(text)));
    expect(value).toBe('{"k":"a\\u007fb"}');
    expect(JSON.parse(value ?? '')).toEqual(JSON.parse(text));
  });

  it('keeps non-ASCII text and passes an already normal context unchanged', () => {
    const header = b64('{"user":"Zoë €"}');
    expect(normalised(header)).toBe(header);
    expect(instanceAccepts(header)).toBe('{"user":"Zoë €"}');
  });

  it.each([
    ['not base64', '%%%not base64'],
    ['base64url alphabet', Buffer.from('{"a":"???>>>"}').toString('base64url')],
    ['a length no bytes encode', 'eyJhIjoxf'],
    ['padding in the middle', 'eyJh=IjoxfQ=='],
    ['padding that does not complete a group', 'eyJhIjoxfQ='],
    ['whitespace', 'eyJh IjoxfQ=='],
    ['not JSON', b64('hello')],
    ['not UTF-8', Buffer.from([0x22, 0xff, 0xfe, 0x22]).toString('base64')],
  ])('refuses %s', (_why, header) => {
    const check = normaliseClientContext(header);
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.problem).toMatch(/X-Amz-Client-Context must/);
  });

  it('refuses a context over the Invoke API limit once compacted', () => {
    const text = JSON.stringify({ k: 'x'.repeat(CLIENT_CONTEXT_LIMIT_BYTES) });
    expect(normaliseClientContext(b64(text))).toMatchObject({ ok: false });
    const fits = JSON.stringify({ k: 'x'.repeat(CLIENT_CONTEXT_LIMIT_BYTES - 8) });
    expect(normaliseClientContext(b64(`${fits}\n\n\n\n`))).toMatchObject({ ok: true });
  });

  it('compactJson leaves strings alone, escapes included', () => {
    expect(compactJson('[ "a \\" b" , "\\\\" ,\n "c" ]')).toBe('["a \\" b","\\\\","c"]');
  });
});
