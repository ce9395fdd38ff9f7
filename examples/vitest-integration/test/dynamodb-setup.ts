// Global setup: a DynamoDB-compatible server (dynalite, in memory) on 127.0.0.1, with the example's
// tables. It runs before lambda-testkit's global setup (listed first), so the config file can read
// its port; tests get its endpoint through inject('dynamodbEndpoint').
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { TestProject } from 'vitest/node';
import { localCredentials } from './local-credentials.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  process.env.EXAMPLE_DYNAMODB_PORT = String(port);
  project.provide('dynamodbEndpoint', endpoint);

  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: localCredentials });
  for (const [TableName, key] of [
    ['orders', 'id'],
    ['notifications', 'orderId'],
  ] as const) {
    await client.send(
      new CreateTableCommand({
        TableName,
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  }
  client.destroy();
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
