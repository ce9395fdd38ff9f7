// Two functions that talk to other services: orders-api writes to DynamoDB and invokes notifier,
// which writes to DynamoDB too. The DynamoDB-compatible service (dynalite) is started on 127.0.0.1
// by test/dynamodb-setup.ts, which runs before lambda-testkit's global setup and says its port.
// The same configuration runs on Docker and on local processes.
import { defineConfig } from '@lambda-testkit/vitest/plugin';

const dynamodbPort = process.env.EXAMPLE_DYNAMODB_PORT;
if (!dynamodbPort) {
  throw new Error('EXAMPLE_DYNAMODB_PORT is not set: test/dynamodb-setup.ts must run before lambda-testkit.');
}

// The functions import @aws-sdk/*: bundled in, because the locally built image and the process
// backend have no SDK (the official base images do).
const bundle = { bundleAwsSdk: true };

export default defineConfig({
  functions: {
    'orders-api': {
      runtime: 'nodejs22.x',
      entry: './src/orders-api.ts',
      handler: 'orders-api.handler',
      bundle,
      timeout: 10,
      environment: { ORDERS_TABLE: 'orders', NOTIFIER_FUNCTION: 'notifier' },
    },
    notifier: {
      runtime: 'nodejs22.x',
      entry: './src/notifier.ts',
      handler: 'notifier.handler',
      bundle,
      timeout: 10,
      environment: { NOTIFICATIONS_TABLE: 'notifications' },
    },
  },
  // Written as the host sees it; on Docker the functions get http://host.lambda-testkit.internal:<port>.
  awsEndpoints: { dynamodb: `http://127.0.0.1:${dynamodbPort}` },
  // AWS_ENDPOINT_URL_LAMBDA → the pool server: orders-api invokes notifier with the SDK.
  functionsCanInvoke: true,
  maxConcurrency: 1,
});
