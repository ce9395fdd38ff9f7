import type { IncomingMessage } from 'node:http';

export interface ReadBody {
  /** The bytes up to the limit (all of them when `size <= limit`). */
  body: Buffer;
  /** How many bytes the sender sent in total. */
  size: number;
}

/**
 * Reads a request body to its end, keeping at most `limit` bytes but counting all of them, so an
 * oversized body can be reported with its real size (RIE's messages carry it, lambda-protocol.md §1.5).
 * Draining rather than cutting the connection lets the sender read the error we answer with.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size + chunk.length <= limit) chunks.push(chunk);
      else if (size < limit) chunks.push(chunk.subarray(0, limit - size));
      size += chunk.length;
    });
    req.once('end', () => resolve({ body: Buffer.concat(chunks), size }));
    req.once('error', reject);
    req.once('aborted', () => reject(new Error('request aborted by the sender')));
  });
}
