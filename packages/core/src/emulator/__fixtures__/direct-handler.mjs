// A handler for the direct-invoke tests: answers with what it saw of the invocation (deterministic
// for a given request id), throws, or waits, as the event asks; `startedFile` is written once it runs.
import { writeFileSync } from 'node:fs';

export const handler = async (event, context) => {
  if (event.startedFile) writeFileSync(event.startedFile, context.awsRequestId);
  if (event.ms) await new Promise((resolve) => setTimeout(resolve, event.ms));
  if (event.fail) throw new TypeError(`failed on purpose: ${event.fail}`);
  return {
    event,
    requestId: context.awsRequestId,
    functionArn: context.invokedFunctionArn,
    clientContext: context.clientContext ?? null,
    traceId: process.env._X_AMZN_TRACE_ID ?? null,
  };
};
