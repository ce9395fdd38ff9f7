// A handler for the emulator's guard tests: reports what it saw, and can note its request id in a
// file and then wait, so a test can act while the invocation is in flight.
import { writeFileSync } from 'node:fs';

export const handler = async (event, context) => {
  if (event.idFile) writeFileSync(event.idFile, context.awsRequestId);
  if (event.ms) await new Promise((resolve) => setTimeout(resolve, event.ms));
  return { genuine: true, secretSeen: process.env.LAMBDA_TESTKIT_INVOKE_SECRET ?? null };
};
