/**
 * Reading request bodies and writing small answers over `node:http`, shared by the emulator and the
 * pool server. Only `node:` imports: the emulator folder is copied alone into container images, so
 * a helper both sides use lives here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface ReadBody {
  /** The first `keep` bytes (all of them when `size <= keep`). */
  body: Buffer;
  /** How many bytes were read off the request. */
  size: number;
  /** The body was read to its end (false: it went past `stopAfter`; the request is left paused). */
  ended: boolean;
}

/**
 * Reads a request body, keeping at most `keep` bytes but counting all it reads, so an oversized
 * body can be reported with its real size (RIE's messages carry it: docs/lambda-apis.md#payload-limits).
 * Reading on rather than cutting the connection lets the sender read the error we answer with. With
 * `stopAfter`, reading stops once more than that many bytes came.
 */
export function readBody(
  req: IncomingMessage,
  keep: number,
  stopAfter = Number.POSITIVE_INFINITY,
): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const body = () => Buffer.concat(chunks);
    const onData = (chunk: Buffer) => {
      if (size + chunk.length <= keep) chunks.push(chunk);
      else if (size < keep) chunks.push(chunk.subarray(0, keep - size));
      size += chunk.length;
      if (size > stopAfter) {
        cleanup();
        req.pause();
        resolve({ body: body(), size, ended: false });
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ body: body(), size, ended: true });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onAborted = () => onError(new Error('request aborted by the sender'));
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** Answers with `body` as the whole response, its length declared. */
export function sendText(res: ServerResponse, status: number, body: string, contentType: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Answers with JSON text (already serialized). */
export function sendJson(res: ServerResponse, status: number, json: string): void {
  sendText(res, status, json, 'application/json');
}

/**
 * Writes `chunk`; resolves when the socket takes more (true) or the caller is gone (false). Used by
 * both streaming answers (the emulator's and the pool server's), so a slow reader holds the writer back.
 */
export function writeWithBackpressure(res: ServerResponse, chunk: Uint8Array): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  if (res.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve(!res.destroyed);
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
