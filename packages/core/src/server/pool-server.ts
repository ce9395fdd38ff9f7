/**
 * The pool server: the AWS Lambda Invoke API on loopback, in front of the warm pool.
 *
 * One per test run, in the runner's main process. Workers reach it over HTTP because no live
 * object can cross into them (jestjs/jest#7184; Vitest's provide/inject is structured-clone only).
 * `@aws-sdk/client-lambda` pointed at it works too (docs/lambda-apis.md#invoke-api-requests).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CONTROL_PREFIX,
  INVOKE_PATH_PREFIX,
  LOG_TAIL_BYTES,
  payloadLimitFor,
  payloadTooLargeMessage,
  STREAM_PATH_PREFIX,
  STREAM_PATH_SUFFIX,
  SYNC_PAYLOAD_LIMIT_BYTES,
  TestkitHeaders,
} from '../client/protocol.ts';
import { sendJson } from '../emulator/http-io.ts';
import { QUALIFIER_PATTERN } from '../emulator/protocol.ts';
import { ConfigError, ErrorCodes, InvokeError, LambdaTestkitError } from '../errors.ts';
import type { InvocationOutcome, InvokeOptions, StreamedInvocation } from '../invocation.ts';
import { stderrLog } from '../log.ts';
import { callerInstanceId } from '../sandbox-wiring.ts';
import { presentedToken, tokenMatcher } from './auth.ts';
import { asTestkitError, awsShapeOf, sendAwsError, sendThrownAsAwsError } from './aws-errors.ts';
import { BodyBudget } from './body-budget.ts';
import { normaliseClientContext } from './client-context.ts';
import { EventInvocations } from './event-invocations.ts';
import { parseFunctionRef } from './function-name.ts';
import { resolveQualifier } from './qualifier.ts';
import { type DrainResult, drainBody, readBodyWithLimit } from './read-body.ts';
import { answerStreamed } from './stream-invoke.ts';

/** What the server needs of the warm pool (WarmPool satisfies it). */
export interface ServedPool {
  has(name: string): boolean;
  functionNames(): string[];
  invoke(name: string, payload: Uint8Array, options?: InvokeOptions): Promise<InvocationOutcome>;
  /** Response streaming (WarmPool has it); without it the streaming route answers 501. */
  invokeStream?(name: string, payload: Uint8Array, options?: InvokeOptions): Promise<StreamedInvocation>;
  evict(name: string): Promise<number>;
  list(): readonly unknown[];
  stats(): Record<string, unknown>;
  /** Region and account of the run's ARNs: an ARN of another one is not found, as on Lambda. */
  readonly region?: string;
  readonly accountId?: string;
  /** The function's aliases (alias → version) for qualified calls; none when absent. */
  getFunction?(
    name: string,
  ): { functionAliases?: Record<string, string>; maximumRetryAttempts?: number } | undefined;
}

export interface PoolServerOptions {
  pool: ServedPool;
  /** The run token every request must present. */
  token: string;
  /**
   * Interface to bind. Only loopback makes sense: the token travels in clear text.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Port to listen on; 0 picks a free one.
   * @default 0
   */
  port?: number;
  /**
   * Maps another name of a function (a SAM `FunctionName`, a CDK construct path) to the name the
   * pool knows it by; `undefined` when it is no alias.
   */
  resolveAlias?: (name: string) => string | undefined;
  /**
   * Functions the run knows but cannot run here (a template's function left out at load): an
   * invoke of one answers with its error (why, and what to set) instead of "not found".
   */
  leftOut?: LeftOutFunctions;
  /**
   * Waits before the retries of a failed Event call (Lambda: about 1 and 2 minutes); the last one
   * repeats.
   * @default [100, 200]
   */
  eventRetryDelaysMs?: readonly number[];
  /** Where Event (async) invocation failures are reported, since no caller waits for them. */
  log?: (line: string) => void;
  /**
   * Request-body bytes held at once over all calls under way (each event stays in memory until its
   * invocation ends); a call whose body does not fit waits for earlier ones.
   * @default 134217728 (128 MiB: more than 20 events of the 6 MB maximum)
   */
  maxBufferedBodyBytes?: number;
  /**
   * On `close()`, how long Event invocations already running may take to finish; queued ones are
   * cancelled at once. Those still running after it are left to the pool's stop.
   * @default 5000
   */
  closeGraceMs?: number;
}

/** What the server needs to know of the functions left out at load. */
export interface LeftOutFunctions {
  /** The error for a name or alias of a left-out function; undefined for any other name. */
  error(name: string): LambdaTestkitError | undefined;
  /** Their names, for the "not found" message. */
  names(): string[];
}

/** Lambda retries a failed Event call twice by default. */
const DEFAULT_EVENT_RETRIES = 2;
const DEFAULT_EVENT_RETRY_DELAYS_MS = [100, 200] as const;
/** The longest `GET /_testkit/events/{name}?waitMs=` waits. */
const EVENTS_WAIT_LIMIT_MS = 600_000;

/** How much of a refused request's body is dropped, and for how long, before the connection is cut. */
interface DrainBounds {
  bytes: number;
  ms?: number;
}

/** An Invoke request that passed every check, ready to run. */
interface InvokeCall {
  /** The pool's name of the function (aliases and ARNs resolved). */
  name: string;
  invocationType: 'RequestResponse' | 'Event' | 'DryRun';
  /** The event; `{}` when the body was empty. */
  payload: Buffer;
  /** `X-Amz-Client-Context`, normalised to padded base64 of single-line JSON (client-context.ts). */
  clientContext: string | undefined;
  /** `X-Amz-Log-Type: Tail`: answer with the log's last 4 KB. */
  logTail: boolean;
  /**
   * The instance whose handler makes this call, named by its session token (docs/wiring.md): a
   * synchronous call that waits on its own call chain fails instead of hanging.
   */
  callerInstanceId: string | undefined;
  /** The caller's `X-Amzn-Trace-Id`, if any (the pool keeps it or makes a new one). */
  traceId: string | undefined;
  /** The version or alias the caller named, if any. */
  qualifier: string | undefined;
  /** The version that runs (`X-Amz-Executed-Version`): `$LATEST`, or the version an alias points to. */
  executedVersion: string;
}
/** What every invocation passes on to the pool, whichever way it is answered. */
function callOptions(call: InvokeCall) {
  return { clientContext: call.clientContext, traceId: call.traceId, qualifier: call.qualifier };
}
/** How much of an oversized body is read (and dropped) before the connection is cut instead. */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;
/**
 * The body of a request without the run token is barely read: enough that a caller with a stale
 * token and an ordinary event reads the 401/403 (see drainBody), not enough to cost anything.
 */
const UNAUTHENTICATED_DISCARD_BYTES = 1024 * 1024;
const UNAUTHENTICATED_DISCARD_MS = 2_000;
/**
 * Node's defaults let a request take 300 s to arrive. Over loopback a 6 MB event takes milliseconds;
 * the request timeout also covers a call waiting for body budget, hence its margin. Neither bounds
 * the answer: a function may run up to 15 minutes.
 */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 120_000;

export class PoolServer {
  readonly #options: PoolServerOptions;
  readonly #server: Server;
  readonly #background = new Set<Promise<unknown>>();
  readonly #events = new EventInvocations();
  /** Aborted by close(): Event invocations still waiting for an instance are cancelled. */
  readonly #closeEvents = new AbortController();
  /** Event invocations cancelled by close() before they ran. */
  #eventsCancelled = 0;
  readonly #bodies: BodyBudget;
  /** The run token's check (its digest taken once). */
  readonly #tokenMatches: (presented: string) => boolean;
  #url: string | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: PoolServerOptions) {
    this.#options = options;
    this.#tokenMatches = tokenMatcher(options.token);
    this.#bodies = new BodyBudget(options.maxBufferedBodyBytes ?? 128 * 1024 * 1024);
    const timeouts = {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      // How often those two are checked (Node's default, 30 s, would let them run that much longer).
      connectionsCheckingInterval: 1_000,
    };
    this.#server = createServer(timeouts, (req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        const err = asTestkitError(error);
        sendAwsError(res, 500, 'ServiceException', err);
      });
    });
    // Keep-alive sockets of workers must not hold the run open once tests are done.
    this.#server.keepAliveTimeout = 5_000;
  }

  /** `http://127.0.0.1:<port>` once listening. */
  get url(): string {
    if (!this.#url) throw new Error('PoolServer.url read before listen() resolved');
    return this.#url;
  }

  async listen(): Promise<string> {
    const host = this.#options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'EADDRINUSE'
            ? new LambdaTestkitError(
                ErrorCodes.PORT_IN_USE,
                `Port ${this.#options.port} on ${host} is taken; choose another or use 0 for a free one.`,
                { cause: error },
              )
            : error,
        );
      };
      this.#server.once('error', onError);
      this.#server.listen(this.#options.port ?? 0, host, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    const { port } = this.#server.address() as AddressInfo;
    this.#url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return this.#url;
  }

  /**
   * Stops accepting calls, cancels Event invocations still queued for an instance, gives running ones
   * up to `closeGraceMs` to finish, closes connections, and logs what it cancelled or left running.
   * Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeIdleConnections();
      // Retries still waiting are skipped: the run is over.
      this.#events.close();
      this.#closeEvents.abort();
      const graceMs = this.#options.closeGraceMs ?? 5_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<'grace over'>((resolve) => {
        timer = setTimeout(() => resolve('grace over'), graceMs);
      });
      const settled = await Promise.race([Promise.allSettled([...this.#background]), grace]);
      clearTimeout(timer);
      if (this.#eventsCancelled > 0) {
        this.#log(
          `lambda-testkit: teardown cancelled ${this.#eventsCancelled} queued Event invocation(s) that had not started.`,
        );
      }
      if (settled === 'grace over' && this.#background.size > 0) {
        this.#log(
          `lambda-testkit: teardown left ${this.#background.size} Event invocation(s) running after ${graceMs} ms; ` +
            'stopping the pool ends them.',
        );
      }
      this.#server.closeAllConnections();
      await closed;
    })();
    return this.#closing;
  }

  /** Event calls per function so far: accepted, and failed after their retries (the run summary). */
  eventCounts(): Record<string, { events: number; failed: number }> {
    return this.#events.counts();
  }

  /** `await using server = new PoolServer(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const authError = this.#checkToken(req);
    if (authError) {
      // Decided from the headers alone. Of the body only a little is dropped unread, so that a caller
      // with a stale token hears why (see drainBody); a stranger gets no more than that.
      const bounds = { bytes: UNAUTHENTICATED_DISCARD_BYTES, ms: UNAUTHENTICATED_DISCARD_MS };
      return this.#refuse(req, res, authError.status, authError.type, authError.error, bounds);
    }
    if (url.pathname.startsWith(INVOKE_PATH_PREFIX)) {
      const rest = url.pathname.slice(INVOKE_PATH_PREFIX.length);
      const m = /^([^/]+)\/invocations\/?$/.exec(rest);
      if (m?.[1] && req.method === 'POST')
        return this.#invoke(req, res, m[1], url.searchParams.get('Qualifier'));
    }
    if (url.pathname.startsWith(STREAM_PATH_PREFIX) && url.pathname.endsWith(STREAM_PATH_SUFFIX)) {
      const rawName = url.pathname.slice(STREAM_PATH_PREFIX.length, -STREAM_PATH_SUFFIX.length);
      if (rawName && !rawName.includes('/') && req.method === 'POST')
        return this.#invokeStream(req, res, rawName, url.searchParams.get('Qualifier'));
    }
    if (url.pathname.startsWith(CONTROL_PREFIX))
      return this.#control(req, res, url.pathname.slice(CONTROL_PREFIX.length), url.searchParams);
    return this.#refuse(
      req,
      res,
      404,
      'UnknownOperationException',
      new InvokeError(
        ErrorCodes.PROTOCOL_ERROR,
        `No route for ${req.method} ${url.pathname}. The pool server speaks the Lambda Invoke API ` +
          `(POST ${INVOKE_PATH_PREFIX}{name}/invocations) and ${CONTROL_PREFIX}{instances,stats,functions/{name}/evict}.`,
      ),
    );
  }

  #checkToken(req: IncomingMessage): { status: number; type: string; error: LambdaTestkitError } | undefined {
    const presented = presentedToken(req.headers.authorization);
    if (presented === undefined) {
      return {
        status: 401,
        type: 'MissingAuthenticationTokenException',
        error: new InvokeError(
          ErrorCodes.UNAUTHORIZED,
          'This lambda-testkit pool server needs the run token: send `Authorization: Bearer <token>`, or use ' +
            'the token as the AWS access key id (lambda.sdkConfig() gives the whole SDK configuration).',
        ),
      };
    }
    if (!this.#tokenMatches(presented)) {
      return {
        status: 403,
        type: 'UnrecognizedClientException',
        error: new InvokeError(
          ErrorCodes.UNAUTHORIZED,
          'The token sent to the lambda-testkit pool server is not this run’s token. Each run makes a new one: ' +
            'take url and token from the running globalSetup (Vitest: inject("lambdaTestkit"); Jest: LAMBDA_TESTKIT_TOKEN).',
        ),
      };
    }
    return undefined;
  }

  /**
   * One Invoke API call: parsed and checked first (refusals answered there), then dispatched. Its
   * body counts against the body budget until the invocation ends.
   */
  async #invoke(req: IncomingMessage, res: ServerResponse, rawName: string, qualifier: string | null) {
    const releaseBody = await this.#bodies.reserve(expectedBodyBytes(req));
    let background: Promise<void> | undefined;
    try {
      const request = await this.#parseInvoke(req, res, rawName, qualifier);
      if (request) background = (await this.#dispatch(res, request))?.run;
    } finally {
      // An Event call is answered (202) before it runs; its body is held until the invocation ends.
      if (background) void background.finally(releaseBody);
      else releaseBody();
    }
  }

  /**
   * One InvokeWithResponseStream call: the same checks as Invoke, then the event stream. Its body
   * counts against the body budget until the stream ends, as an Invoke call's does.
   */
  async #invokeStream(
    req: IncomingMessage,
    res: ServerResponse,
    rawName: string,
    qualifier: string | null,
  ): Promise<void> {
    const releaseBody = await this.#bodies.reserve(expectedBodyBytes(req));
    try {
      await this.#answerStream(req, res, rawName, qualifier);
    } finally {
      releaseBody();
    }
  }

  async #answerStream(
    req: IncomingMessage,
    res: ServerResponse,
    rawName: string,
    qualifier: string | null,
  ): Promise<void> {
    const call = await this.#parseInvoke(req, res, rawName, qualifier);
    if (!call) return;
    if (call.invocationType === 'Event') {
      sendAwsError(
        res,
        400,
        'InvalidParameterValueException',
        new InvokeError(
          ErrorCodes.PROTOCOL_ERROR,
          'InvokeWithResponseStream takes InvocationType RequestResponse or DryRun; for Event use Invoke.',
        ),
      );
      return;
    }
    if (call.invocationType === 'DryRun') {
      await this.#dispatch(res, call);
      return;
    }
    const pool = this.#options.pool;
    if (!pool.invokeStream) {
      sendAwsError(
        res,
        501,
        'ServiceException',
        new InvokeError(
          ErrorCodes.PROTOCOL_ERROR,
          'The pool behind this server has no invokeStream(), so it cannot serve InvokeWithResponseStream. ' +
            'Serve a WarmPool, or add invokeStream to the custom pool.',
        ),
      );
      return;
    }
    let invocation: StreamedInvocation;
    try {
      invocation = await pool.invokeStream(call.name, call.payload, callOptions(call));
    } catch (error) {
      sendThrownAsAwsError(res, error);
      return;
    }
    await answerStreamed(res, invocation, {
      executedVersion: call.executedVersion,
      logTail: call.logTail ? logTail : undefined,
    });
  }

  /**
   * Checks an Invoke request as Lambda does (function, invocation type, payload size and JSON,
   * client context, qualifier) and reads its body. A request that fails a check is answered here,
   * with Lambda's error type, and yields `undefined`.
   */
  async #parseInvoke(
    req: IncomingMessage,
    res: ServerResponse,
    rawName: string,
    qualifier: string | null,
  ): Promise<InvokeCall | undefined> {
    const pool = this.#options.pool;
    let decoded: string;
    try {
      decoded = decodeURIComponent(rawName);
    } catch {
      decoded = rawName;
    }
    const ref = parseFunctionRef(decoded);
    // An alias may itself contain `:` or `/` (CDK construct paths): try the whole label first.
    const name = this.#poolName(decoded) ?? this.#poolName(ref?.name ?? decoded) ?? ref?.name ?? decoded;
    if (!pool.has(name)) {
      const leftOut = this.#options.leftOut;
      const cannotRun = leftOut?.error(decoded) ?? (ref ? leftOut?.error(ref.name) : undefined);
      if (cannotRun) {
        const shape = awsShapeOf(cannotRun);
        await this.#refuse(req, res, shape.status, shape.type, cannotRun);
        return undefined;
      }
      const known = pool.functionNames();
      const skipped = leftOut?.names() ?? [];
      const error = new ConfigError(
        ErrorCodes.UNKNOWN_FUNCTION,
        `Function not found: ${decoded}. Known functions: ${known.length ? known.join(', ') : '(none)'}` +
          `${skipped.length ? `; left out here: ${skipped.join(', ')}` : ''}. ` +
          'Declare it under `functions` in lambda-testkit.config (or the plugin/preset options).',
        { details: { name, known, leftOut: skipped } },
      );
      await this.#refuse(req, res, 404, 'ResourceNotFoundException', error);
      return undefined;
    }

    const invocationType = headerValue(req, 'x-amz-invocation-type') ?? 'RequestResponse';
    if (invocationType !== 'RequestResponse' && invocationType !== 'Event' && invocationType !== 'DryRun') {
      await this.#badRequest(
        req,
        res,
        'InvalidParameterValueException',
        `X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, got ${JSON.stringify(invocationType)}.`,
      );
      return undefined;
    }
    const limit = payloadLimitFor(invocationType);
    const read = await readBodyWithLimit(req, limit);
    if (!read.ok) {
      // Read and drop the rest (bounded, nothing kept) before answering: see drainBody.
      const drained = await this.#drain(req, res, read.consumed);
      const counted = read.consumed + drained.dropped;
      const received = drained.complete ? counted : Math.max(read.receivedAtLeast, counted);
      const error = new InvokeError(
        ErrorCodes.PAYLOAD_TOO_LARGE,
        payloadTooLargeMessage(name, invocationType, received),
        { details: { name, limit, received } },
      );
      sendAwsError(res, 413, 'RequestTooLargeException', error);
      return undefined;
    }
    const payload = read.body.length === 0 ? Buffer.from('{}') : read.body;
    try {
      JSON.parse(payload.toString('utf8'));
    } catch (cause) {
      await this.#badRequest(
        req,
        res,
        'InvalidRequestContentException',
        `Could not parse request body into json: ${(cause as Error).message}. The event must be a JSON document.`,
      );
      return undefined;
    }
    const contextHeader = headerValue(req, 'x-amz-client-context');
    const context = contextHeader === undefined ? undefined : normaliseClientContext(contextHeader);
    if (context?.ok === false) {
      await this.#badRequest(req, res, 'InvalidParameterValueException', context.problem);
      return undefined;
    }
    if (ref?.qualifier !== undefined && qualifier !== null && ref.qualifier !== qualifier) {
      // Lambda's own answer to `orders:live?Qualifier=2`.
      await this.#badRequest(
        req,
        res,
        'InvalidParameterValueException',
        `The derived qualifier from the function name does not match the specified qualifier: ` +
          `${JSON.stringify(ref.qualifier)} in the name, ${JSON.stringify(qualifier)} in ?Qualifier=. Give one of them.`,
      );
      return undefined;
    }
    const version = ref?.qualifier ?? qualifier ?? undefined;
    if (version !== undefined && !QUALIFIER_PATTERN.test(version)) {
      await this.#badRequest(
        req,
        res,
        'InvalidParameterValueException',
        `Qualifier ${JSON.stringify(version)} is not a version or alias name ($LATEST, 1, live, …).`,
      );
      return undefined;
    }
    const target = resolveQualifier(
      { qualifier: version, region: ref?.region, accountId: ref?.accountId },
      {
        functionAliases: pool.getFunction?.(name)?.functionAliases,
        region: pool.region,
        accountId: pool.accountId,
      },
    );
    if (!target.ok) {
      await this.#refuse(
        req,
        res,
        404,
        'ResourceNotFoundException',
        qualifierNotFound(name, decoded, version, target.reason, pool),
      );
      return undefined;
    }
    return {
      name,
      invocationType,
      payload,
      clientContext: context?.value,
      logTail: headerValue(req, 'x-amz-log-type') === 'Tail',
      callerInstanceId: callerInstanceId(headerValue(req, 'x-amz-security-token')),
      traceId: headerValue(req, 'x-amzn-trace-id'),
      qualifier: version,
      executedVersion: target.executedVersion,
    };
  }

  /**
   * Runs a checked call as its invocation type says: not at all, in the background (resolving with
   * that run), or answered.
   */
  async #dispatch(res: ServerResponse, call: InvokeCall): Promise<{ run: Promise<void> } | undefined> {
    switch (call.invocationType) {
      case 'DryRun':
        res.writeHead(204, {
          'x-amzn-requestid': randomUUID(),
          'x-amz-executed-version': call.executedVersion,
        });
        res.end();
        return undefined;
      case 'Event':
        return this.#invokeInBackground(res, call);
      case 'RequestResponse':
        await this.#invokeAndAnswer(res, call);
        return undefined;
    }
  }

  /**
   * Event invocation: accepted at once (202), run and retried in the background (see
   * event-invocations.ts); a final failure is logged, since no caller waits for it. close()
   * cancels a try still waiting for an instance, and skips retries still waiting.
   */
  #invokeInBackground(
    res: ServerResponse,
    { name, payload, clientContext, traceId, qualifier }: InvokeCall,
  ): { run: Promise<void> } {
    const requestId = randomUUID();
    const signal = this.#closeEvents.signal;
    const pool = this.#options.pool;
    const policy = {
      maximumRetryAttempts: pool.getFunction?.(name)?.maximumRetryAttempts ?? DEFAULT_EVENT_RETRIES,
      delaysMs: this.#options.eventRetryDelaysMs ?? DEFAULT_EVENT_RETRY_DELAYS_MS,
    };
    // Lambda queues an Event call over the reserved concurrency instead of refusing it, and a retry
    // keeps the request id.
    const attempt = () =>
      pool
        .invoke(name, payload, { clientContext, traceId, qualifier, requestId, throttle: false, signal })
        .catch((error: unknown) => {
          // Cancelled by close() before it ran: counted, and reported once by close().
          if (signal.aborted && error === signal.reason) this.#eventsCancelled++;
          throw error;
        });
    const run: Promise<void> = this.#events
      .submit(name, requestId, attempt, policy)
      .then(() => {
        const record = this.#events.list(name).find((r) => r.requestId === requestId);
        const last = record?.attempts.at(-1);
        if (record?.status === 'failed' && !signal.aborted) {
          this.#log(
            `Event invocation of ${name} (${requestId}) failed after ${record.attempts.length} attempt(s): ` +
              `${last?.error?.errorType ?? last?.kind}${last?.error?.errorMessage ? ` ${last.error.errorMessage}` : ''}`,
          );
        }
      })
      .finally(() => this.#background.delete(run));
    this.#background.add(run);
    res.writeHead(202, { 'x-amzn-requestid': requestId, 'content-length': 0 });
    res.end();
    return { run };
  }

  /** RequestResponse invocation: the function's answer, with Lambda's and the testkit's headers. */
  async #invokeAndAnswer(res: ServerResponse, call: InvokeCall): Promise<void> {
    let outcome: InvocationOutcome;
    try {
      outcome = await this.#options.pool.invoke(call.name, call.payload, {
        ...callOptions(call),
        // Event calls (above) name no caller: their caller does not wait, so they join no chain.
        callerInstanceId: call.callerInstanceId,
      });
    } catch (error) {
      sendThrownAsAwsError(res, error);
      return;
    }
    const headers: Record<string, string | number> = {
      'content-type': outcome.json !== undefined ? 'application/json' : 'application/octet-stream',
      'content-length': outcome.payload.length,
      'x-amzn-requestid': outcome.requestId,
      'x-amz-executed-version': call.executedVersion,
      [TestkitHeaders.coldStart]: String(outcome.coldStart),
      [TestkitHeaders.instanceId]: outcome.instanceId,
      [TestkitHeaders.durationMs]: outcome.durationMs.toFixed(2),
      [TestkitHeaders.queuedMs]: outcome.queuedMs.toFixed(2),
      [TestkitHeaders.kind]: outcome.kind,
      [TestkitHeaders.traceId]: outcome.traceId,
    };
    if (outcome.functionError) headers['x-amz-function-error'] = outcome.functionError;
    if (call.logTail) headers['x-amz-log-result'] = logTail(outcome.logs);
    res.writeHead(200, headers);
    res.end(outcome.payload);
  }

  async #control(
    req: IncomingMessage,
    res: ServerResponse,
    route: string,
    query?: URLSearchParams,
  ): Promise<void> {
    const pool = this.#options.pool;
    if (req.method === 'GET' && route === 'instances') return sendValue(res, pool.list());
    if (req.method === 'GET' && route === 'stats') return sendValue(res, pool.stats());
    if (req.method === 'GET' && route === 'functions') return sendValue(res, pool.functionNames());
    const events = /^events\/([^/?]+)$/.exec(route);
    if (req.method === 'GET' && events?.[1]) {
      const asked = decodeURIComponent(events[1]);
      const name = this.#poolName(asked) ?? asked;
      const waitMs = Math.min(Number(query?.get('waitMs') ?? 0) || 0, EVENTS_WAIT_LIMIT_MS);
      return sendValue(res, waitMs > 0 ? await this.#events.settled(name, waitMs) : this.#events.list(name));
    }
    const evict = /^functions\/([^/]+)\/evict$/.exec(route);
    if (req.method === 'POST' && evict?.[1]) {
      let asked: string;
      try {
        asked = decodeURIComponent(evict[1]);
      } catch {
        return sendAwsError(
          res,
          400,
          'InvalidParameterValueException',
          new InvokeError(
            ErrorCodes.PROTOCOL_ERROR,
            `The function name ${JSON.stringify(evict[1])} has a malformed percent-escape; encode it with encodeURIComponent.`,
          ),
        );
      }
      const name = this.#poolName(asked) ?? asked;
      if (!pool.has(name)) {
        const known = pool.functionNames();
        const error = new ConfigError(
          ErrorCodes.UNKNOWN_FUNCTION,
          `Cannot evict ${name}: no such function. Known functions: ${known.join(', ') || '(none)'}.`,
          { details: { name, known } },
        );
        return sendAwsError(res, 404, 'ResourceNotFoundException', error);
      }
      try {
        return sendValue(res, { evicted: await pool.evict(name) });
      } catch (error) {
        return sendThrownAsAwsError(res, error);
      }
    }
    sendAwsError(
      res,
      404,
      'UnknownOperationException',
      new InvokeError(ErrorCodes.PROTOCOL_ERROR, `No control route ${req.method} ${CONTROL_PREFIX}${route}.`),
    );
  }

  #poolName(name: string): string | undefined {
    if (this.#options.pool.has(name)) return name;
    return this.#options.resolveAlias?.(name);
  }

  #badRequest(req: IncomingMessage, res: ServerResponse, type: string, message: string): Promise<void> {
    return this.#refuse(req, res, 400, type, new InvokeError(ErrorCodes.PROTOCOL_ERROR, message));
  }

  /**
   * Answers an error; a body not read yet is drained first (within `bounds`), so the caller reads the
   * answer.
   */
  async #refuse(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    type: string,
    error: LambdaTestkitError,
    bounds: DrainBounds = { bytes: DISCARD_LIMIT_BYTES },
  ): Promise<void> {
    await this.#drain(req, res, 0, bounds);
    sendAwsError(res, status, type, error);
  }

  /**
   * Drops the rest of the body, up to `bounds.bytes` in all (and for at most `bounds.ms`). Past that
   * the connection is marked to close after the answer (the caller may then see a reset: nobody sends
   * 64 MB to Lambda).
   */
  async #drain(
    req: IncomingMessage,
    res: ServerResponse,
    alreadyRead: number,
    bounds: DrainBounds = { bytes: DISCARD_LIMIT_BYTES },
  ): Promise<DrainResult> {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > bounds.bytes) {
      res.setHeader('connection', 'close');
      return { complete: false, dropped: 0 };
    }
    const drained = await drainBody(req, bounds.bytes - alreadyRead, bounds.ms);
    if (!drained.complete) res.setHeader('connection', 'close');
    return drained;
  }

  #log(line: string): void {
    (this.#options.log ?? stderrLog)(line);
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sendValue(res: ServerResponse, value: unknown): void {
  sendJson(res, 200, JSON.stringify(value));
}

/** Base64 of the last 4 KB of the invocation's log, as `X-Amz-Log-Result` carries it. */
export function logTail(lines: readonly string[]): string {
  const all = Buffer.from(lines.length ? `${lines.join('\n')}\n` : '', 'utf8');
  return all.subarray(Math.max(0, all.length - LOG_TAIL_BYTES)).toString('base64');
}

/**
 * How many body bytes a call reserves before it is read: its declared length, or the largest event
 * the Invoke API takes when it is sent chunked. One declared too large is refused unread, so nothing.
 */
function expectedBodyBytes(req: IncomingMessage): number {
  const declared = Number(req.headers['content-length']);
  if (!Number.isFinite(declared)) return SYNC_PAYLOAD_LIMIT_BYTES;
  return declared > SYNC_PAYLOAD_LIMIT_BYTES ? 0 : declared;
}

/** Lambda's 404 for a qualifier or ARN that names no function here, with what would work. */
function qualifierNotFound(
  name: string,
  asked: string,
  qualifier: string | undefined,
  reason: 'unknown-qualifier' | 'other-account' | 'other-region',
  pool: ServedPool,
): ConfigError {
  const aliases = pool.getFunction?.(name)?.functionAliases ?? {};
  const known = ['$LATEST', ...Object.keys(aliases), ...new Set(Object.values(aliases))];
  const arn = `arn:aws:lambda:${pool.region ?? 'us-east-1'}:${pool.accountId ?? '123456789012'}:function:${name}`;
  const why =
    reason === 'unknown-qualifier'
      ? `Function not found: ${arn}:${qualifier}. ${name} has the qualifiers ${known.join(', ')}; ` +
        'declare an alias with functionAliases: { <alias>: "<version>" } in its configuration.'
      : `Function not found: ${asked}. This run's functions live in account ${pool.accountId} and region ` +
        `${pool.region} (${arn}); an ARN of another ${reason === 'other-account' ? 'account' : 'region'} names no function here.`;
  return new ConfigError(ErrorCodes.UNKNOWN_FUNCTION, why, { details: { name, qualifier, reason } });
}
