const { lambda } = require('@lambda-testkit/jest');
const { sqsEvent } = require('./events.js');

describe('greeter (dependency from a layer)', () => {
  it('greets with the library from the layer', async () => {
    const res = await lambda.invoke('greeter', { name: 'Jest' });
    expect(res.functionError).toBeUndefined();
    expect(res.payload).toEqual({ message: 'Hello, Jest! (from the greeting layer)' });
  });

  it('logs the invocation (START to REPORT)', async () => {
    const res = await lambda.invoke('greeter', {});
    expect(res.payload.message).toBe('Hello, world! (from the greeting layer)');
    expect(res.logs.join('\n')).toMatch(/START RequestId: /);
  });

  it('reports a thrown error as a function error (Unhandled), not an exception', async () => {
    const res = await lambda.invoke('greeter', { name: 42 });
    expect(res.functionError).toBe('Unhandled');
    expect(res.error).toMatchObject({ errorType: 'TypeError', errorMessage: 'event.name must be a string' });
  });

  it('shares the warm sqs-batch instance with the other files', async () => {
    const res = await lambda.invoke('sqs-batch', sqsEvent([{ amount: 0 }]));
    expect(res.payload).toEqual({ batchItemFailures: [] });
  });
});
