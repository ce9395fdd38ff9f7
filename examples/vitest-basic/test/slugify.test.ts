import { it, lambda } from '@lambda-testkit/vitest';
import { describe, expect } from 'vitest';

describe('slugify (dependency from a layer)', () => {
  it('loads its library from the layer', async ({ lambda }) => {
    const result = await lambda.invoke<{ slug: string }>('slugify', { title: 'Crème Brûlée, 2 servings' });
    expect(result.payload).toEqual({ slug: 'creme-brulee-2-servings' });
  });

  it('reports a thrown error as a function error (Unhandled), not an exception', async ({ lambda }) => {
    const result = await lambda.invoke('slugify', { title: 42 });
    expect(result.functionError).toBe('Unhandled');
    expect(result.error).toMatchObject({
      errorType: 'TypeError',
      errorMessage: 'event.title must be a string',
    });
  });

  it('works outside fixtures too (the `lambda` import)', async () => {
    const results = await Promise.all(
      ['One', 'Two', 'Three'].map((title) => lambda.invoke<{ slug: string }>('slugify', { title })),
    );
    expect(results.map((r) => r.payload.slug)).toEqual(['one', 'two', 'three']);
  });

  it('shares the other functions’ instances', async ({ lambda }) => {
    for (let i = 0; i < 5; i++) {
      expect((await lambda.invoke('payments-batch', { Records: [] })).payload).toEqual({
        batchItemFailures: [],
      });
      expect(
        (await lambda.invoke<{ statusCode: number }>('todos-api', { routeKey: 'GET /nothing' })).payload
          .statusCode,
      ).toBe(404);
    }
  });
});
