// Minimal event builders in the shapes AWS sends (see @types/aws-lambda for the full types).

/**
 * An API Gateway HTTP API (payload 2.0) request.
 * @returns {import('aws-lambda').APIGatewayProxyEventV2}
 */
exports.httpEvent = (method, path, { routeKey, pathParameters, body } = {}) => ({
  version: '2.0',
  routeKey: routeKey ?? `${method} ${path}`,
  rawPath: path,
  rawQueryString: '',
  headers: { 'content-type': 'application/json' },
  requestContext: {
    accountId: '123456789012',
    apiId: 'example',
    http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
    requestId: `req-${Math.random().toString(36).slice(2)}`,
    routeKey: routeKey ?? `${method} ${path}`,
    stage: '$default',
    timeEpoch: Date.now(),
  },
  pathParameters,
  body: body === undefined ? undefined : JSON.stringify(body),
  isBase64Encoded: false,
});

/**
 * An SQS event with one record per message body.
 * @returns {import('aws-lambda').SQSEvent}
 */
exports.sqsEvent = (bodies) => ({
  Records: bodies.map((body, i) => ({
    messageId: `msg-${i + 1}`,
    receiptHandle: `handle-${i + 1}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {},
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:orders',
    awsRegion: 'us-east-1',
  })),
});
