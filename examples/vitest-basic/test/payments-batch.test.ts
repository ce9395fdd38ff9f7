import { it } from '@lambda-testkit/vitest';
import type { SQSBatchResponse } from 'aws-lambda';
import { describe, expect } from 'vitest';
import { sqsEvent } from './events.ts';

describe('payments-batch (SQS with partial batch failures)', () => {
  it('reports only the failed messages', async ({ lambda }) => {
    const result = await lambda.invoke<SQSBatchResponse>(
      'payments-batch',
      sqsEvent([
        { cents: 1250, currency: 'EUR' },
        { cents: -5, currency: 'EUR' },
        'not json',
        { cents: 99, currency: 'usd' },
        { cents: 1, currency: 'USD' },
      ]),
    );
    expect(result.functionError).toBeUndefined();
    expect(result.payload.batchItemFailures).toEqual([
      { itemIdentifier: 'msg-2' },
      { itemIdentifier: 'msg-3' },
      { itemIdentifier: 'msg-4' },
    ]);
    // The invocation's own log lines come back too (X-Amz-Log-Type: Tail).
    expect(result.logs.some((line) => line.includes('settled 2 of 5'))).toBe(true);
  });

  it('returns an empty failure list for a clean batch', async ({ lambda }) => {
    const result = await lambda.invoke<SQSBatchResponse>(
      'payments-batch',
      sqsEvent([{ cents: 1, currency: 'GBP' }]),
    );
    expect(result.payload).toEqual({ batchItemFailures: [] });
  });

  it('shares the other functions’ instances', async ({ lambda }) => {
    for (let i = 0; i < 5; i++) {
      expect((await lambda.invoke('slugify', { title: `Payments ${i}!` })).payload).toEqual({
        slug: `payments-${i}`,
      });
      expect(
        (await lambda.invoke<{ statusCode: number }>('todos-api', { routeKey: 'GET /nothing' })).payload
          .statusCode,
      ).toBe(404);
    }
  });
});
