/**
 * The answer of `InvokeWithResponseStream` (docs/lambda-apis.md#response-streaming): HTTP 200 with
 * the function's stream content type, then an `application/vnd.amazon.eventstream` body of one
 * `PayloadChunk` event per chunk as the function writes it, and one `InvokeComplete` event with
 * `ErrorCode`/`ErrorDetails`/`LogResult`. The framing (prelude, headers, CRCs) is the AWS event-stream
 * codec of `@smithy/core`, the one the AWS SDK decodes with.
 *
 * Each chunk is written only once the previous one has left (the socket drained), so a slow reader
 * slows the function down instead of making this process buffer the response.
 *
 * The codec loads with the first streamed answer, not with the server: a run that never streams
 * never needs it (docs/architecture.md#loading-on-first-use).
 */
import type { ServerResponse } from 'node:http';
import type { EventStreamCodec, MessageHeaders } from '@smithy/core/event-streams';
import { STREAM_COMPLETE_EXTRAS_KEY, type StreamCompleteExtras } from '../client/protocol.ts';
import { writeWithBackpressure } from '../emulator/http-io.ts';
import type { StreamedInvocation, StreamedOutcome } from '../invocation.ts';
import { loadOnFirstUse } from '../load-on-first-use.ts';
import { asTestkitError } from './aws-errors.ts';

let encoder: { codec: EventStreamCodec; fromUtf8: (text: string) => Uint8Array } | undefined;

/** The event-stream codec and the UTF-8 encoder it was built with, made on the first call. */
function streamEncoder(): NonNullable<typeof encoder> {
  if (!encoder) {
    const { EventStreamCodec } = loadOnFirstUse<typeof import('@smithy/core/event-streams')>(
      '@smithy/core/event-streams',
    );
    const { fromUtf8, toUtf8 } = loadOnFirstUse<typeof import('@smithy/core/serde')>('@smithy/core/serde');
    encoder = { codec: new EventStreamCodec(toUtf8, fromUtf8), fromUtf8 };
  }
  return encoder;
}

function eventHeaders(eventType: string, contentType: string): MessageHeaders {
  return {
    ':event-type': { type: 'string', value: eventType },
    ':message-type': { type: 'string', value: 'event' },
    ':content-type': { type: 'string', value: contentType },
  };
}

/** One `PayloadChunk` event. */
export function payloadChunk(bytes: Uint8Array): Uint8Array {
  return streamEncoder().codec.encode({
    headers: eventHeaders('PayloadChunk', 'application/octet-stream'),
    body: bytes,
  });
}

/** The `InvokeComplete` event that ends the stream. */
export function invokeComplete(body: {
  ErrorCode?: string;
  ErrorDetails?: string;
  LogResult?: string;
  [STREAM_COMPLETE_EXTRAS_KEY]: StreamCompleteExtras;
}): Uint8Array {
  const { codec, fromUtf8 } = streamEncoder();
  return codec.encode({
    headers: eventHeaders('InvokeComplete', 'application/json'),
    body: fromUtf8(JSON.stringify(body)),
  });
}

export interface StreamAnswerOptions {
  executedVersion: string;
  /** `X-Amz-Log-Type: Tail`: `LogResult` carries the log's last 4 KB (base64). */
  logTail: ((lines: readonly string[]) => string) | undefined;
}

/** Writes a started streamed invocation to `res` as Lambda's event stream. */
export async function answerStreamed(
  res: ServerResponse,
  invocation: StreamedInvocation,
  options: StreamAnswerOptions,
): Promise<void> {
  res.writeHead(200, {
    'content-type': invocation.contentType,
    'x-amz-executed-version': options.executedVersion,
    ...(invocation.requestId ? { 'x-amzn-requestid': invocation.requestId } : {}),
  });
  res.flushHeaders();
  for await (const chunk of invocation.body) {
    if (chunk.length === 0) continue;
    // Leaving the loop (caller gone) ends the body early, which replaces the instance.
    if (!(await writeWithBackpressure(res, payloadChunk(chunk)))) return;
  }
  let outcome: StreamedOutcome;
  try {
    outcome = await invocation.outcome;
  } catch (error) {
    const err = asTestkitError(error);
    res.end(
      invokeComplete({
        ErrorCode: 'ServiceException',
        ErrorDetails: err.message,
        [STREAM_COMPLETE_EXTRAS_KEY]: {
          kind: 'failed',
          requestId: invocation.requestId ?? '',
          coldStart: false,
          durationMs: 0,
          queuedMs: 0,
          instanceId: '',
          size: 0,
          testkitError: err.toJSON(),
        },
      }),
    );
    return;
  }
  res.end(
    invokeComplete({
      ...(outcome.error
        ? { ErrorCode: outcome.error.errorType, ErrorDetails: outcome.error.errorMessage }
        : {}),
      ...(options.logTail ? { LogResult: options.logTail(outcome.logs) } : {}),
      [STREAM_COMPLETE_EXTRAS_KEY]: {
        kind: outcome.kind,
        requestId: outcome.requestId,
        coldStart: outcome.coldStart,
        durationMs: outcome.durationMs,
        queuedMs: outcome.queuedMs,
        instanceId: outcome.instanceId,
        size: outcome.size,
        ...(outcome.error ? { error: outcome.error } : {}),
      },
    }),
  );
}
