import { it } from '@lambda-testkit/vitest';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect } from 'vitest';
import { httpEvent } from './events.ts';

type HttpResult = APIGatewayProxyStructuredResultV2 & { body: string };

describe('todos-api (API Gateway HTTP API)', () => {
  it('creates a todo and reads it back from the same warm instance', async ({ lambda }) => {
    const created = await lambda.invoke<HttpResult>(
      'todos-api',
      httpEvent('POST /todos', { body: { title: ' Buy milk ' } }),
    );
    expect(created.functionError).toBeUndefined();
    expect(created.payload.statusCode).toBe(201);
    const todo = JSON.parse(created.payload.body) as { id: string; title: string };
    expect(todo.title).toBe('Buy milk');
    expect(created.payload.headers).toMatchObject({ location: `/todos/${todo.id}` });

    const read = await lambda.invoke<HttpResult>(
      'todos-api',
      httpEvent('GET /todos/{id}', { pathParameters: { id: todo.id } }),
    );
    expect(read.payload.statusCode).toBe(200);
    expect(JSON.parse(read.payload.body)).toEqual({ id: todo.id, title: 'Buy milk', done: false });
    expect(read.instanceId).toBe(created.instanceId);
    expect(read.coldStart).toBe(false);
  });

  it('validates input and answers 404 for unknown ids and routes', async ({ lambda }) => {
    const bad = await lambda.invoke<HttpResult>(
      'todos-api',
      httpEvent('POST /todos', { body: { title: '' } }),
    );
    expect(bad.payload.statusCode).toBe(400);
    const missing = await lambda.invoke<HttpResult>(
      'todos-api',
      httpEvent('GET /todos/{id}', { pathParameters: { id: '999' } }),
    );
    expect(missing.payload.statusCode).toBe(404);
    const route = await lambda.invoke<HttpResult>('todos-api', httpEvent('DELETE /todos'));
    expect(JSON.parse(route.payload.body)).toEqual({ message: 'no route for DELETE /todos' });
  });

  it('runs with the Lambda environment', async ({ lambda }) => {
    const list = await lambda.invoke<HttpResult>('todos-api', httpEvent('GET /todos'));
    expect(JSON.parse(list.payload.body).servedBy).toBe('todos-api');
  });

  it('shares the other functions’ instances', async ({ lambda }) => {
    for (let i = 0; i < 5; i++) {
      expect((await lambda.invoke('slugify', { title: `From todos ${i}` })).payload).toEqual({
        slug: `from-todos-${i}`,
      });
      expect((await lambda.invoke('payments-batch', { Records: [] })).payload).toEqual({
        batchItemFailures: [],
      });
    }
  });
});
