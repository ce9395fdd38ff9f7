/**
 * Reading the pool server's `InvokeWithResponseStream` answer: the AWS event-stream framing, split and
 * decoded with `@smithy/core`'s codec (the one the AWS SDK uses), into payload chunks and the final
 * `InvokeComplete` document. Loaded on the first `invokeStream` only (pool-client.ts imports it lazily),
 * so plain invokes do not pay for it. `@smithy/core` ships CommonJS too, so this loads under Jest.
 */
import { EventStreamCodec, getChunkedStream } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export type StreamEvent =
  | { type: 'chunk'; bytes: Uint8Array }
  | { type: 'complete'; document: Record<string, unknown> };

/** The events of an event-stream body, in order; throws on a malformed frame or an exception event. */
export async function* readEventStream(body: AsyncIterable<Uint8Array>): AsyncGenerator<StreamEvent> {
  for await (const frame of getChunkedStream(body)) {
    const message = codec.decode(frame);
    const header = (name: string) => {
      const value = message.headers[name]?.value;
      return typeof value === 'string' ? value : undefined;
    };
    const messageType = header(':message-type');
    if (messageType !== 'event') {
      const text = toUtf8(message.body);
      throw new Error(
        `the pool server sent a ${messageType ?? 'typeless'} message ${header(':exception-type') ?? header(':error-code') ?? ''}: ${text.slice(0, 300)}`,
      );
    }
    const eventType = header(':event-type');
    if (eventType === 'PayloadChunk') yield { type: 'chunk', bytes: message.body };
    else if (eventType === 'InvokeComplete') {
      yield { type: 'complete', document: JSON.parse(toUtf8(message.body)) as Record<string, unknown> };
    }
    // Other event types are ignored, as the SDK ignores unknown union members.
  }
}
