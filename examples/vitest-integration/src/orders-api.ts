// POST /orders: stores the order in DynamoDB, then tells the notifier function about it through
// the Lambda API. Neither client is given an endpoint: AWS_ENDPOINT_URL_DYNAMODB and
// AWS_ENDPOINT_URL_LAMBDA (set by lambda-testkit's awsEndpoints and functionsCanInvoke) point them
// at the local services, as they would point them at AWS's in a deployment.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { InvocationType, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';

// Created once per instance, reused by warm calls (as in Lambda).
const dynamodb = new DynamoDBClient({});
const lambda = new LambdaClient({});

interface OrderRequest {
  item?: string;
  quantity?: number;
  /** How to tell the notifier: wait for it (default) or hand it off (`Event`). */
  notify?: 'RequestResponse' | 'Event';
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> {
  const order = JSON.parse(event.body ?? '{}') as OrderRequest;
  if (!order.item || !(Number(order.quantity) > 0)) {
    return {
      statusCode: 400,
      body: JSON.stringify({ message: 'item and a positive quantity are required' }),
    };
  }
  const id = randomUUID();
  await dynamodb.send(
    new PutItemCommand({
      TableName: process.env.ORDERS_TABLE,
      Item: { id: { S: id }, item: { S: order.item }, quantity: { N: String(order.quantity) } },
    }),
  );
  const notified = await lambda.send(
    new InvokeCommand({
      FunctionName: process.env.NOTIFIER_FUNCTION,
      InvocationType: order.notify === 'Event' ? InvocationType.Event : InvocationType.RequestResponse,
      Payload: JSON.stringify({ orderId: id, item: order.item }),
    }),
  );
  const answer = notified.Payload?.length ? JSON.parse(Buffer.from(notified.Payload).toString('utf8')) : null;
  return {
    statusCode: 201,
    body: JSON.stringify({ id, notifier: { status: notified.StatusCode, answer } }),
  };
}
