const { lambda } = require('@lambda-testkit/jest');
const { httpEvent } = require('./events.js');

describe('http-api (API Gateway HTTP API)', () => {
  it('returns an order', async () => {
    const res = await lambda.invoke(
      'http-api',
      httpEvent('GET', '/orders/1', {
        routeKey: 'GET /orders/{id}',
        pathParameters: { id: '1' },
      }),
    );
    expect(res.functionError).toBeUndefined();
    expect(res.payload.statusCode).toBe(200);
    expect(JSON.parse(res.payload.body)).toEqual({ id: '1', item: 'coffee', quantity: 2 });
  });

  it('answers 404 for an unknown order', async () => {
    const res = await lambda.invoke(
      'http-api',
      httpEvent('GET', '/orders/42', {
        routeKey: 'GET /orders/{id}',
        pathParameters: { id: '42' },
      }),
    );
    expect(res.payload.statusCode).toBe(404);
  });

  it('creates an order and validates input', async () => {
    const created = await lambda.invoke('http-api', httpEvent('POST', '/orders', { body: { item: 'tea' } }));
    expect(created.payload.statusCode).toBe(201);
    const rejected = await lambda.invoke('http-api', httpEvent('POST', '/orders', { body: {} }));
    expect(rejected.payload.statusCode).toBe(400);
  });

  it('shares the warm greeter instance with the other files', async () => {
    const res = await lambda.invoke('greeter', { name: 'http' });
    expect(res.payload).toEqual({ message: 'Hello, http! (from the greeting layer)' });
  });
});
