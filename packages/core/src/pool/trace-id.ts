/**
 * X-Ray trace headers for invocations. Lambda gives every invocation one: the caller's
 * `X-Amzn-Trace-Id` when it sent one, otherwise a new one; the runtime client copies it into
 * `_X_AMZN_TRACE_ID` (docs/lambda-apis.md#trace-ids).
 */
import { randomBytes } from 'node:crypto';

/** `Root=1-<8 hex: epoch seconds>-<24 hex>`, the X-Ray trace id format. */
const ROOT = /(?:^|;)\s*Root=1-[0-9a-f]{8}-[0-9a-f]{24}\s*(?:;|$)/;

/** Random bytes one header takes: 12 for the root's id, 8 for the parent segment id. */
const HEADER_BYTES = 20;
/** Headers' worth of random bytes drawn at once (see `randomHex`). */
const POOL_HEADERS = 128;
let pool = Buffer.alloc(0);
let used = 0;

/**
 * 40 hex digits of fresh randomness. Drawn from a buffer refilled every POOL_HEADERS headers: each
 * `randomBytes` call goes through OpenSSL's generator (and its fork check, a getpid), which cost
 * more per warm invoke than the rest of the trace header. Every byte is still used once.
 */
function randomHex(): string {
  if (used + HEADER_BYTES > pool.length) {
    pool = randomBytes(HEADER_BYTES * POOL_HEADERS);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + HEADER_BYTES);
  used += HEADER_BYTES;
  return hex;
}

/** A new well-formed trace header: a fresh root, a parent segment id, not sampled. */
export function newTraceHeader(now: number = Date.now()): string {
  const seconds = Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0');
  const hex = randomHex();
  return `Root=1-${seconds}-${hex.slice(0, 24)};Parent=${hex.slice(24)};Sampled=0`;
}

/** Whether a caller's `X-Amzn-Trace-Id` carries a well-formed `Root=` (then it is kept as sent). */
export function isTraceHeader(value: string): boolean {
  return ROOT.test(value) && value.length <= 2048 && !/[\r\n]/.test(value);
}

/** The trace header an invocation runs with: the caller's when well-formed, else a new one. */
export function traceHeaderFor(callerHeader: string | undefined): string {
  return callerHeader !== undefined && isTraceHeader(callerHeader) ? callerHeader : newTraceHeader();
}
