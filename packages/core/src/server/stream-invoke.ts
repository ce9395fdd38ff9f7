/**
 * The answer of `InvokeWithResponseStream` (docs/lambda-protocol.md#response-streaming): HTTP 200 with
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
import { asTestkitError } from './aws-errors.ts';

/** The event-stream encoder with the UTF-8 helpers it was built with. */
export interface StreamEncoder {
  codec: EventStreamCodec;
  fromUtf8: (text: string) => Uint8Array;
}

let encoder: Promise<StreamEncoder> | undefined;

/** The shared encoder, loading `@smithy/core` on the first call. */
export function loadStreamEncoder(): Promise<StreamEncoder> {
  encoder ??= Promise.all([import('@smithy/core/event-streams'), import('@smithy/core/serde')]).then(
    ([{ EventStreamCodec }, { fromUtf8, toUtf8 }]) => ({
      codec: new EventStreamCodec(toUtf8, fromUtf8),
      fromUtf8,
    }),
  );
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
export function payloadChunk({ codec }: StreamEncoder, bytes: Uint8Array): Uint8Array {
  return codec.encode({ headers: eventHeaders('PayloadChunk', 'application/octet-stream'), body: bytes });
}

/** The `InvokeComplete` event that ends the stream. */
export function invokeComplete(
  { codec, fromUtf8 }: StreamEncoder,
  body: {
    ErrorCode?: string;
    ErrorDetails?: string;
    LogResult?: string;
    [STREAM_COMPLETE_EXTRAS_KEY]: StreamCompleteExtras;
  },
): Uint8Array {
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
  const encoder = await loadStreamEncoder();
  res.writeHead(200, {
    'content-type': invocation.contentType,
    'x-amz-executed-version': options.executedVersion,
    ...(invocation.requestId ? { 'x-amzn-requestid': invocation.requestId } : {}),
  });
  res.flushHeaders();
  for await (const chunk of invocation.body) {
    if (chunk.length === 0) continue;
    // Leaving the loop (caller gone) ends the body early, which replaces the instance.
    if (!(await writeWithBackpressure(res, payloadChunk(encoder, chunk)))) return;
  }
  let outcome: StreamedOutcome;
  try {
    outcome = await invocation.outcome;
  } catch (error) {
    const err = asTestkitError(error);
    res.end(
      invokeComplete(encoder, {
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
    invokeComplete(encoder, {
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
