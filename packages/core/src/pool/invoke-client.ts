/**
 * The client of one instance: one undici `Client` (exactly one keep-alive connection, never the
 * global dispatcher), POSTing to the RIE invoke route and reading the whole answer; or, for an
 * instance whose emulator runs in this process, its direct invoker for buffered invokes (streamed
 * ones still go over HTTP).
 *
 * It never throws: it returns the answer, or a transport failure that says whether any byte of the
 * request was handed to the socket. Only the pool decides what a failure means.
 */

import type { Readable } from 'node:stream';
import { Client, type Dispatcher } from 'undici';
import type { DirectInvoker } from '../backend.ts';
import {
  INVOKE_SECRET_HEADER,
  QUALIFIER_HEADER,
  REQUEST_ID_HEADER,
  RIE_INVOKE_PATH,
  STREAM_INVOKE_ROUTE,
} from '../emulator/protocol.ts';
import type { RieAnswer } from './classify.ts';

export type InvokeAttempt =
  | ({ ok: true } & RieAnswer)
  | {
      ok: false;
      /**
       * The request was handed to the connection. When false the handler provably never saw the
       * call (connect refused, connect timeout), so a retry on another instance is safe.
       */
      requestWritten: boolean;
      /** No answer within the function timeout plus the margin. */
      timedOut: boolean;
      cause: Error;
    };

export interface InstanceClientOptions {
  /** Longest wait for the answer's headers and between body chunks: function timeout + margin. */
  timeoutMs: number;
  /** Sent in `x-lambda-testkit-invoke-secret` on every invoke (the instance requires it; RIE ignores it). */
  invokeSecret?: string | undefined;
  /**
   * The instance's in-process invoke handling (`LaunchedInstance.direct`): buffered invokes call it
   * instead of sending HTTP, with the same answers and the same timeout.
   * @default none: every invoke goes over HTTP
   */
  direct?: DirectInvoker | undefined;
}

export interface InvokeRequest {
  payload: Uint8Array;
  /** Passed through as `X-Amz-Client-Context` (base64 JSON). */
  clientContext?: string | undefined;
  /** Passed through as `X-Amzn-Trace-Id`; the runtime gets it as `Lambda-Runtime-Trace-Id`. */
  traceId?: string | undefined;
  /** The caller's qualifier, for the invoked function ARN (our emulator's own header). */
  qualifier?: string | undefined;
  /** The request id the invocation should have (our emulator's own header). */
  requestId?: string | undefined;
  /** Extra wait on top of the client's `timeoutMs` (a cold call's init phase). @default 0 */
  extraTimeoutMs?: number;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** What undici accepts in a header value (it refuses the request before connecting otherwise). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Failures that happen before a byte of the request is sent (see `onRequestStart` below). */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT']);

/** The start of a streamed answer: the body is read by the caller, the trailers are set once it ends. */
export type StreamAttempt =
  | {
      ok: true;
      statusCode: number;
      contentType: string;
      requestId: string | undefined;
      body: Readable;
      /** Filled when `body` has ended. */
      trailers: Record<string, string>;
    }
  | Extract<InvokeAttempt, { ok: false }>;

export class InstanceClient {
  readonly endpoint: string;
  #client: Client;
  #timeoutMs: number;
  #invokeSecret: string | undefined;
  #direct: DirectInvoker | undefined;
  /** Settles the direct invokes in flight as transport failures (see `destroy`). */
  #abortDirect = new Set<(cause: Error) => void>();
  #destroyed = false;

  constructor(endpoint: string, options: InstanceClientOptions) {
    this.endpoint = endpoint;
    this.#timeoutMs = options.timeoutMs;
    this.#invokeSecret = options.invokeSecret;
    this.#direct = options.direct;
    // `Client` is a single connection by construction (a `Pool` with `connections: 1` without the
    // pool). pipelining 1: one request on the wire at a time, which is also all RIE survives
    // (aws-lambda-runtime-interface-emulator#97). keepAliveTimeout is left at undici's default on
    // purpose: it stays below Node's server default (5 s, used by our emulator) and undici honours
    // the server's `Keep-Alive: timeout` hint, so the client drops an idle socket before the server
    // does and never writes a call onto a socket the server is closing (a false INSTANCE_LOST).
    this.#client = new Client(endpoint, { pipelining: 1 });
  }

  /** The headers both routes send: content type, client context, invoke secret, trace id, qualifier. */
  #headers(request: InvokeRequest): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (request.clientContext !== undefined) headers['x-amz-client-context'] = request.clientContext;
    if (this.#invokeSecret !== undefined) headers[INVOKE_SECRET_HEADER] = this.#invokeSecret;
    if (request.traceId !== undefined) headers['x-amzn-trace-id'] = request.traceId;
    if (request.qualifier !== undefined) headers[QUALIFIER_HEADER] = request.qualifier;
    return headers;
  }

  /** A POST of the event to `path`, timed out after the function's timeout (plus any extra). */
  #post(path: string, request: InvokeRequest, headers: Record<string, string>): Dispatcher.DispatchOptions {
    return {
      method: 'POST',
      path,
      headers,
      body: Buffer.from(request.payload.buffer, request.payload.byteOffset, request.payload.byteLength),
      headersTimeout: this.#timeoutMs + (request.extraTimeoutMs ?? 0),
      bodyTimeout: this.#timeoutMs + (request.extraTimeoutMs ?? 0),
    };
  }

  /** Sends one invocation and collects the full answer (the body is always consumed). */
  invoke(request: InvokeRequest): Promise<InvokeAttempt> {
    if (this.#direct) return this.#invokeDirect(this.#direct, request);
    const headers = this.#headers(request);
    if (request.requestId !== undefined) headers[REQUEST_ID_HEADER] = request.requestId;
    const options = this.#post(RIE_INVOKE_PATH, request, headers);

    return new Promise<InvokeAttempt>((resolve) => {
      let requestWritten = false;
      let statusCode = 0;
      const chunks: Buffer[] = [];
      let settled = false;
      const settle = (attempt: InvokeAttempt) => {
        if (settled) return;
        settled = true;
        resolve(attempt);
      };
      const fail = (cause: Error) =>
        settle({
          ok: false,
          requestWritten,
          timedOut: TIMEOUT_CODES.has((cause as { code?: string }).code ?? ''),
          cause,
        });
      const handler: Dispatcher.DispatchHandler = {
        // Why this hook is the line between "retry" and "do not": undici calls onRequestStart from
        // writeH1 (lib/dispatcher/client-h1.js) on a connected socket, right before the first
        // socket.write of the request. A connect failure (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT)
        // errors the queued request from client.js onError/connect without ever calling it. Any
        // failure after it (UND_ERR_SOCKET "other side closed", ECONNRESET, EPIPE) may have reached
        // the handler, so it is never retried.
        onRequestStart: () => {
          requestWritten = true;
        },
        onResponseStart: (_controller, status) => {
          statusCode = status;
        },
        onResponseData: (_controller, chunk) => {
          chunks.push(chunk);
        },
        onResponseEnd: () => {
          settle({ ok: true, statusCode, body: Buffer.concat(chunks) });
        },
        onResponseError: (_controller, error) => fail(error),
      };
      try {
        this.#client.dispatch(options, handler);
      } catch (error) {
        fail(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /**
   * One invocation through the direct invoker, under the contract of the HTTP path: the same answer,
   * `timedOut` after the function timeout plus the margin (the sandbox enforces the function timeout
   * itself; this is the backstop the HTTP client's timeouts are), and a transport failure once
   * `destroy` is called. A header value undici would refuse fails here as it would there: before
   * anything reached the instance.
   */
  #invokeDirect(direct: DirectInvoker, request: InvokeRequest): Promise<InvokeAttempt> {
    const refused = [request.clientContext, request.traceId, request.qualifier, request.requestId].find(
      (value) => value !== undefined && !HEADER_VALUE.test(value),
    );
    if (refused !== undefined || this.#destroyed) {
      const cause = new Error(
        this.#destroyed
          ? 'The instance client was destroyed.'
          : `A header value cannot be sent (control characters): ${JSON.stringify(refused)}.`,
      );
      return Promise.resolve({ ok: false, requestWritten: false, timedOut: false, cause });
    }
    return new Promise<InvokeAttempt>((resolve) => {
      const timeoutMs = this.#timeoutMs + (request.extraTimeoutMs ?? 0);
      const settle = (attempt: InvokeAttempt) => {
        if (!this.#abortDirect.delete(abort)) return;
        clearTimeout(timer);
        resolve(attempt);
      };
      const abort = (cause: Error) => settle({ ok: false, requestWritten: true, timedOut: false, cause });
      const timer = setTimeout(
        () =>
          settle({
            ok: false,
            requestWritten: true,
            timedOut: true,
            cause: new Error(`No answer from the instance within ${timeoutMs} ms.`),
          }),
        timeoutMs,
      );
      this.#abortDirect.add(abort);
      direct.invoke(request).then(
        (answer) => settle({ ok: true, statusCode: answer.statusCode, body: answer.body }),
        (error: unknown) => abort(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  /**
   * Sends one invocation to the streaming route; resolves once the answer's headers came. The body
   * is read by the caller: undici stops reading the socket while it is not, which is the
   * backpressure towards the instance.
   */
  async invokeStream(request: InvokeRequest): Promise<StreamAttempt> {
    const headers = this.#headers(request);
    try {
      const res = await this.#client.request(this.#post(STREAM_INVOKE_ROUTE, request, headers));
      const contentType = res.headers['content-type'];
      const requestId = res.headers['x-amzn-requestid'];
      return {
        requestId: typeof requestId === 'string' ? requestId : undefined,
        ok: true,
        statusCode: res.statusCode,
        contentType: typeof contentType === 'string' ? contentType : 'application/octet-stream',
        body: res.body,
        trailers: res.trailers,
      };
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      const code = (cause as { code?: string }).code ?? '';
      return {
        ok: false,
        requestWritten: !CONNECT_CODES.has(code),
        timedOut: TIMEOUT_CODES.has(code),
        cause,
      };
    }
  }

  /** Closes the connection after the current request (if any). Idempotent. */
  async close(): Promise<void> {
    if (this.#client.closed || this.#client.destroyed) return;
    await this.#client.close().catch(() => undefined);
  }

  /** Aborts the request in flight (it settles as a transport failure) and drops the connection. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    for (const abort of [...this.#abortDirect]) abort(new Error('The instance client was destroyed.'));
    if (this.#client.destroyed) return;
    await this.#client.destroy().catch(() => undefined);
  }
}
