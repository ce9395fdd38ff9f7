const { lambda } = require('@lambda-testkit/jest');
const { httpEvent, sqsEvent } = require('./events.js');

describe('sqs-batch (partial batch failures)', () => {
  it('reports no failure for a good batch', async () => {
    const res = await lambda.invoke('sqs-batch', sqsEvent([{ amount: 1 }, { amount: 2 }]));
    expect(res.payload).toEqual({ batchItemFailures: [] });
  });

  it('reports exactly the records that failed', async () => {
    const res = await lambda.invoke(
      'sqs-batch',
      sqsEvent([{ amount: 1 }, 'not json', { amount: -5 }, { amount: 3 }]),
    );
    expect(res.payload).toEqual({
      batchItemFailures: [{ itemIdentifier: 'msg-2' }, { itemIdentifier: 'msg-3' }],
    });
  });

  it('shares the warm http-api instance with the other files', async () => {
    const res = await lambda.invoke('http-api', httpEvent('GET', '/nowhere'));
    expect(res.payload.statusCode).toBe(404);
  });
});
