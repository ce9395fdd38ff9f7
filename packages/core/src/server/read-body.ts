/** Reads a request body into memory up to a limit, never further (a client cannot exhaust memory). */
import type { IncomingMessage } from 'node:http';
import { readBody } from '../emulator/http-io.ts';

export type BodyResult =
  | { ok: true; body: Buffer }
  /** `consumed`: bytes already read off the request; `receivedAtLeast` may be the declared length. */
  | { ok: false; receivedAtLeast: number; consumed: number };

export function readBodyWithLimit(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.resolve({ ok: false, receivedAtLeast: declared, consumed: 0 });
  }
  return readBody(req, limit, limit).then((read) =>
    read.ended
      ? { ok: true, body: read.body }
      : { ok: false, receivedAtLeast: read.size, consumed: read.size },
  );
}

export interface DrainResult {
  /** The body was read to its end (false: it went past `limit`, or the caller went away). */
  complete: boolean;
  /** Bytes read and dropped by this call. */
  dropped: number;
}

/**
 * Reads and drops the rest of a body, up to `limit` bytes and for at most `timeoutMs`, and resolves
 * once it ended (or went past either bound, leaving the request paused).
 *
 * Why drain BEFORE answering a refusal: closing a socket that still holds unread bytes makes the
 * kernel send a reset, which also throws away the answer the caller has not read yet. A caller still
 * uploading (a 7 MB event, an SDK call with a stale token) then sees ECONNRESET/EPIPE instead of the
 * 413 or 403, and only sometimes: it depends on who runs first, so it showed up under load.
 */
export function drainBody(
  req: IncomingMessage,
  limit: number,
  timeoutMs = Number.POSITIVE_INFINITY,
): Promise<DrainResult> {
  if (req.readableEnded) return Promise.resolve({ complete: true, dropped: 0 });
  return new Promise((resolve) => {
    let dropped = 0;
    let settled = false;
    // A sender that stops sending would otherwise hold the request until the server's requestTimeout.
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => {
          req.pause();
          settle(false);
        }, timeoutMs)
      : undefined;
    const settle = (complete: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      resolve({ complete, dropped });
    };
    const onData = (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > limit) {
        req.pause();
        settle(false);
      }
    };
    const onEnd = () => settle(true);
    const onClose = () => settle(req.readableEnded);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    // A reset by the caller is not our error to report; 'close' settles.
    req.on('error', () => {});
    req.resume();
  });
}
