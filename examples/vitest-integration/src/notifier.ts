// Records that an order was announced (a stand-in for sending an e-mail or a message).
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';

const dynamodb = new DynamoDBClient({});

export async function handler(event: { orderId: string; item: string }): Promise<{ notified: string }> {
  await dynamodb.send(
    new PutItemCommand({
      TableName: process.env.NOTIFICATIONS_TABLE,
      Item: { orderId: { S: event.orderId }, text: { S: `Your ${event.item} is on its way` } },
    }),
  );
  return { notified: event.orderId };
}
