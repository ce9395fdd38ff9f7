import { it } from '@lambda-testkit/vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect } from 'vitest';

function greetEvent(name: string | undefined): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'GET /greet/{name}',
    rawPath: `/greet/${name ?? ''}`,
    rawQueryString: '',
    headers: {},
    pathParameters: name === undefined ? undefined : { name },
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: {
        method: 'GET',
        path: `/greet/${name ?? ''}`,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'vitest',
      },
      requestId: 'req-1',
      routeKey: 'GET /greet/{name}',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  };
}

describe('GreetFunction (TypeScript bundled from the template, a local layer)', () => {
  it('greets through the layer, with the template environment and the test override', async ({ lambda }) => {
    const result = await lambda.invoke<APIGatewayProxyStructuredResultV2 & { body: string }>(
      'GreetFunction',
      greetEvent(' Ada '),
    );
    expect(result.functionError).toBeUndefined();
    expect(result.payload.statusCode).toBe(200);
    expect(JSON.parse(result.payload.body)).toEqual({
      message: 'Hello from us-east-1, Ada!', // !Sub with AWS::Region, formatted by the layer
      table: 'greetings-test', // sam.overrides in vitest.config.ts
      stage: 'test', // Globals + Parameters default
    });
  });

  it('reports a handler error with a stack trace pointing at the TypeScript source', async ({ lambda }) => {
    const result = await lambda.invoke('GreetFunction', greetEvent(undefined));
    expect(result.functionError).toBe('Unhandled');
    expect(result.error?.errorType).toBe('TypeError');
    expect(result.error?.errorMessage).toBe('path parameter "name" is required');
    expect(result.error?.trace?.join('\n')).toMatch(/greet\/lib\/parse-name\.ts:5:\d+/);
  });
});

describe('WordCountFunction (ESM output)', () => {
  it('counts words', async ({ lambda }) => {
    const result = await lambda.invoke<{ words: number; longest: string }>('WordCountFunction', {
      text: 'the quick brown fox jumps',
    });
    expect(result.payload).toEqual({ words: 5, longest: 'quick' });
  });
});
