// CommonJS test file: lambda.invokeStream through the bundled client (the event-stream codec loads
// under Jest's CommonJS).
const { lambda } = require('@lambda-testkit/jest');

const text = (bytes) => Buffer.from(bytes).toString('utf8');

describe('lambda.invokeStream (CommonJS)', () => {
  it('yields the chunks as written, then the completion', async () => {
    const stream = await lambda.invokeStream('stream', { who: 'cjs' });
    const chunks = [];
    for await (const chunk of stream) chunks.push(text(chunk));
    expect(chunks[0]).toBe('hello cjs');
    expect(chunks.join('')).toBe('hello cjs and goodbye');
    const completion = await stream.completion;
    expect(completion.outcome).toBe('success');
    expect(completion.requestId).toBe(stream.requestId);
    expect(completion.logs.join('\n')).toContain(`REPORT RequestId: ${stream.requestId}`);
  });

  it('reports an error thrown midway in the completion, after the bytes written', async () => {
    const { body, completion } = await (await lambda.invokeStream('stream', { fail: true })).collect();
    expect(text(body)).toBe('hello jest');
    expect(completion).toMatchObject({
      functionError: 'Unhandled',
      error: { errorType: 'Error', errorMessage: 'failed after the first chunk' },
    });
  });
});
