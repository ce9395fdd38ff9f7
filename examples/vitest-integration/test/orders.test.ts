import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { it } from '@lambda-testkit/vitest';
import { afterAll, describe, expect, inject, vi } from 'vitest';
import { localCredentials } from './local-credentials.ts';

// The test looks into the same DynamoDB-compatible service the functions wrote to.
const dynamodb = new DynamoDBClient({
  endpoint: inject('dynamodbEndpoint'),
  region: 'us-east-1',
  credentials: localCredentials,
});
afterAll(() => dynamodb.destroy());

async function getItem(table: string, key: string, value: string) {
  const out = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { [key]: { S: value } } }));
  return out.Item;
}

function post(body: unknown) {
  return { version: '2.0', routeKey: 'POST /orders', rawPath: '/orders', body: JSON.stringify(body) };
}

interface Created {
  id: string;
  notifier: { status: number; answer: { notified: string } | null };
}

// The tests of this file run in order: the last one reads the counts the others left.
describe('orders-api', () => {
  it('stores the order in DynamoDB and waits for the notifier', async ({ lambda }) => {
    const res = await lambda.invoke<{ statusCode: number; body: string }>(
      'orders-api',
      post({ item: 'tea', quantity: 2 }),
    );
    expect(res.functionError, JSON.stringify(res.error)).toBeUndefined();
    expect(res.payload.statusCode).toBe(201);
    const created = JSON.parse(res.payload.body) as Created;
    expect(created.notifier).toEqual({ status: 200, answer: { notified: created.id } });
    expect(await getItem('orders', 'id', created.id)).toEqual({
      id: { S: created.id },
      item: { S: 'tea' },
      quantity: { N: '2' },
    });
    expect((await getItem('notifications', 'orderId', created.id))?.text).toEqual({
      S: 'Your tea is on its way',
    });
  });

  it('hands the notification off with an Event invocation', async ({ lambda }) => {
    const res = await lambda.invoke<{ statusCode: number; body: string }>(
      'orders-api',
      post({ item: 'scones', quantity: 6, notify: 'Event' }),
    );
    const created = JSON.parse(res.payload.body) as Created;
    expect(created.notifier).toEqual({ status: 202, answer: null });
    // The notifier runs after orders-api has answered.
    await vi.waitFor(
      async () => expect(await getItem('notifications', 'orderId', created.id)).toBeDefined(),
      {
        timeout: 20_000,
        interval: 100,
      },
    );
  });

  it('rejects an order without an item, touching nothing', async ({ lambda }) => {
    const res = await lambda.invoke<{ statusCode: number }>('orders-api', post({ quantity: 1 }));
    expect(res.payload.statusCode).toBe(400);
  });

  it('reuses the warm notifier instance for every call from orders-api', async ({ lambda }) => {
    const stats = await lambda.stats();
    expect(stats.notifier).toMatchObject({ coldStarts: 1, launches: 1 });
    expect(stats.notifier?.warmHits).toBeGreaterThanOrEqual(1);
  });
});
