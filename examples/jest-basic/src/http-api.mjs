// An API Gateway HTTP API (payload format 2.0) handler: a tiny orders resource.
const orders = new Map([['1', { id: '1', item: 'coffee', quantity: 2 }]]);

export const handler = async (event) => {
  const { method } = event.requestContext.http;
  if (method === 'GET' && event.routeKey === 'GET /orders/{id}') {
    const order = orders.get(event.pathParameters?.id ?? '');
    return order ? json(200, order) : json(404, { message: `no order ${event.pathParameters?.id}` });
  }
  if (method === 'POST' && event.routeKey === 'POST /orders') {
    const body = JSON.parse(
      event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString() : event.body,
    );
    if (!body.item) return json(400, { message: 'item is required' });
    const id = String(orders.size + 1);
    orders.set(id, { id, ...body });
    return json(201, { id });
  }
  return json(404, { message: `no route ${event.routeKey}` });
};

function json(statusCode, body) {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
