import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { formatGreeting } from 'greeting-format';
import { parseName } from './lib/parse-name';

export const lambdaHandler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> => {
  const name = parseName(event.pathParameters?.name);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      message: formatGreeting(process.env.GREETING_PREFIX ?? 'Hello', name),
      table: process.env.TABLE_NAME,
      stage: process.env.STAGE,
    }),
  };
};
