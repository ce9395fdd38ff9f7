/**
 * X-Ray trace headers for invocations. Lambda gives every invocation one: the caller's
 * `X-Amzn-Trace-Id` when it sent one, otherwise a new one; the runtime client copies it into
 * `_X_AMZN_TRACE_ID` (docs/lambda-protocol.md#trace-ids).
 */
import { randomBytes } from 'node:crypto';

/** `Root=1-<8 hex: epoch seconds>-<24 hex>`, the X-Ray trace id format. */
const ROOT = /(?:^|;)\s*Root=1-[0-9a-f]{8}-[0-9a-f]{24}\s*(?:;|$)/;

/** A new well-formed trace header: a fresh root, a parent segment id, not sampled. */
export function newTraceHeader(now: number = Date.now()): string {
  const seconds = Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${seconds}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

/** Whether a caller's `X-Amzn-Trace-Id` carries a well-formed `Root=` (then it is kept as sent). */
export function isTraceHeader(value: string): boolean {
  return ROOT.test(value) && value.length <= 2048 && !/[\r\n]/.test(value);
}

/** The trace header an invocation runs with: the caller's when well-formed, else a new one. */
export function traceHeaderFor(callerHeader: string | undefined): string {
  return callerHeader !== undefined && isTraceHeader(callerHeader) ? callerHeader : newTraceHeader();
}
