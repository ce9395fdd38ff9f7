/**
 * Response streaming (docs/lambda-apis.md#response-streaming,
 * docs/lambda-apis.md#node-runtime-client): `awslambda.streamifyResponse(handler)` marks a handler; it
 * then receives a writable `responseStream` that is the chunked `/response` body. A failure midway ends the
 * body with the error trailers. `HttpResponseStream.from(stream, prelude)` writes the JSON prelude and 8 NUL
 * bytes before the body, under the HTTP-integration content type.
 */
import type { ClientRequest } from 'node:http';
import { Writable } from 'node:stream';
import { type ErrorDocument, RuntimeError, RuntimeErrors, toErrorDocument } from './errors.ts';
import { type Handler, HIGH_WATER_MARK_SYMBOL, STREAMING_SYMBOL } from './handler-loader.ts';

const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const PRELUDE_DELIMITER = Buffer.alloc(8);

export class ResponseStream extends Writable {
  readonly #req: ClientRequest;
  #prelude: Buffer | undefined;
  #started = false;
  #failure: ErrorDocument | undefined;

  constructor(req: ClientRequest, highWaterMark?: number) {
    super(highWaterMark === undefined ? {} : { highWaterMark });
    this.#req = req;
  }

  /** Until the first byte is written. */
  setContentType(contentType: string): void {
    if (this.#started) {
      throw new RuntimeError(RuntimeErrors.invalidStreamingOperation, 'Cannot set content-type, too late.');
    }
    this.#req.setHeader('Content-Type', contentType);
  }

  /** Used by HttpResponseStream: bytes written ahead of the first chunk. */
  setPrelude(prelude: Buffer): void {
    this.#prelude = prelude;
  }

  #begin(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#prelude) this.#req.write(this.#prelude);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#begin();
    this.#req.write(chunk, (error) => callback(error ?? null));
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#begin();
    if (this.#failure) {
      this.#req.addTrailers({
        'Lambda-Runtime-Function-Error-Type': this.#failure.errorType,
        'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(this.#failure)).toString('base64'),
      });
    }
    this.#req.end(() => callback());
  }

  /** Ends the body with the error trailers; what was written so far stays. */
  fail(error: unknown): Promise<void> {
    this.#failure = toErrorDocument(error);
    if (this.writableFinished) return Promise.resolve();
    if (this.destroyed || this.writableEnded) {
      // The writable side is gone (destroyed by the handler, or already ending): finish the request directly.
      if (!this.#req.writableEnded) {
        this.#begin();
        this.#req.addTrailers({
          'Lambda-Runtime-Function-Error-Type': this.#failure.errorType,
          'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(this.#failure)).toString('base64'),
        });
        this.#req.end();
      }
      return Promise.resolve();
    }
    return new Promise((resolve) => this.end(() => resolve()));
  }
}

export const HttpResponseStream = {
  from(stream: ResponseStream, prelude: unknown): ResponseStream {
    stream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    stream.setPrelude(Buffer.concat([Buffer.from(JSON.stringify(prelude)), PRELUDE_DELIMITER]));
    return stream;
  },
};

function streamifyResponse<H extends Handler>(handler: H, options?: { highWaterMark?: number }): H {
  const tagged = handler as unknown as Record<symbol, unknown>;
  tagged[STREAMING_SYMBOL] = 'response';
  if (typeof options?.highWaterMark === 'number') tagged[HIGH_WATER_MARK_SYMBOL] = options.highWaterMark;
  return handler;
}

/** `globalThis.awslambda`, unless AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA is 1/true (as the Node runtime). */
export function installGlobals(env: NodeJS.ProcessEnv): void {
  const off = env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (off === '1' || off === 'true') return;
  const g = globalThis as { awslambda?: Record<string, unknown> };
  g.awslambda = { ...g.awslambda, streamifyResponse, HttpResponseStream };
}
