// An API Gateway HTTP API handler (payload format 2.0): a small in-memory todo list.
// The list lives as long as the warm instance does, like module state in a real Lambda.
const todos = new Map();
let nextId = 1;

/** @param {import('aws-lambda').APIGatewayProxyEventV2} event */
export const handler = async (event) => {
  switch (event.routeKey) {
    case 'POST /todos': {
      const input = parseBody(event);
      if (typeof input?.title !== 'string' || input.title.trim() === '') {
        return reply(400, { message: 'title (a non-empty string) is required' });
      }
      const todo = { id: String(nextId++), title: input.title.trim(), done: false };
      todos.set(todo.id, todo);
      return reply(201, todo, { location: `/todos/${todo.id}` });
    }
    case 'GET /todos/{id}': {
      const todo = todos.get(event.pathParameters?.id ?? '');
      return todo ? reply(200, todo) : reply(404, { message: `todo ${event.pathParameters?.id} not found` });
    }
    case 'GET /todos':
      return reply(200, { items: [...todos.values()], servedBy: process.env.AWS_LAMBDA_FUNCTION_NAME });
    default:
      return reply(404, { message: `no route for ${event.routeKey}` });
  }
};

function parseBody(event) {
  if (!event.body) return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** @returns {import('aws-lambda').APIGatewayProxyStructuredResultV2} */
function reply(statusCode, body, headers = {}) {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}
