/**
 * The streaming invoke route (docs/lambda-apis.md#response-streaming): the runtime's streamed
 * `/response` goes to the caller chunk by chunk as it arrives, as a chunked HTTP body; how the
 * invocation ended follows in trailers (StreamTrailers), since the status line is long gone by then.
 * A buffered response (a handler that does not stream) comes as one chunk, a failure before any byte
 * as an empty body: the trailers tell them apart, as InvokeComplete does on Lambda.
 */
import type { ServerResponse } from 'node:http';
import type { FunctionConfig } from './config.ts';
import { writeWithBackpressure } from './http-io.ts';
import { failureOf } from './invoke-handling.ts';
import { StreamTrailers } from './protocol.ts';
import type { InvokeInput, ResponseSink, Sandbox } from './sandbox.ts';

const TRAILER_NAMES = Object.values(StreamTrailers).join(', ');

/** Runs one invocation on `sandbox`, writing its response to `res` as it is produced. */
export async function streamReply(
  sandbox: Sandbox,
  input: InvokeInput,
  res: ServerResponse,
  config: FunctionConfig,
): Promise<void> {
  let begun = false;
  const begin = (contentType: string, requestId: string) => {
    if (begun) return;
    begun = true;
    res.writeHead(200, {
      'content-type': contentType,
      'x-amzn-requestid': requestId,
      'x-amz-executed-version': config.functionVersion,
      trailer: TRAILER_NAMES,
    });
    // The caller learns the response started before the first chunk is through.
    res.flushHeaders();
  };
  const sink: ResponseSink = {
    begin,
    write: (chunk) => writeWithBackpressure(res, chunk),
  };
  const result = await sandbox.invoke({ ...input, stream: sink });
  if (res.destroyed) return;
  const { outcome } = result;
  begin(
    outcome.kind === 'response' && !outcome.streamed ? 'application/json' : 'application/octet-stream',
    result.requestId,
  );
  if (outcome.kind === 'response' && !outcome.streamed && outcome.body.length > 0) res.write(outcome.body);
  const failure = failureOf(result);
  res.addTrailers({
    [StreamTrailers.kind]: failure?.kind ?? 'success',
    [StreamTrailers.requestId]: result.requestId,
    ...(failure
      ? {
          [StreamTrailers.errorType]: failure.errorType,
          [StreamTrailers.errorBody]: Buffer.from(failure.body).toString('base64'),
        }
      : {}),
  });
  res.end();
}
