// CommonJS test file through babel-jest: the `lambda` helper against the run's pool.
const {
  lambda,
  LambdaTestkitError,
  InvokeError,
  ErrorCodes,
  isTestkitError,
} = require('@lambda-testkit/jest');

describe('lambda helper (CommonJS, babel-jest)', () => {
  it('invokes a function and returns its parsed payload, logs and request id', async () => {
    const res = await lambda.invoke('echo', { hello: 'cjs' });
    expect(res.statusCode).toBe(200);
    expect(res.functionError).toBeUndefined();
    expect(res.payload).toEqual({ event: { hello: 'cjs' }, functionName: 'echo', requestId: res.requestId });
    expect(res.requestId).not.toBe('');
    expect(res.logs.join('\n')).toContain('echo {"hello":"cjs"}');
  });

  it('reports a handler error as a function error, not a thrown one', async () => {
    const res = await lambda.invoke('boom', {});
    expect(res.functionError).toBe('Unhandled');
    expect(res.error).toMatchObject({
      errorType: 'BoomError',
      errorMessage: 'boom: this handler always fails',
    });
  });

  it('throws a LambdaTestkitError naming the known functions for an unknown one', async () => {
    const error = await lambda.invoke('no-such-function', {}).then(
      () => undefined,
      (e) => e,
    );
    expect(error).toBeInstanceOf(LambdaTestkitError);
    expect(isTestkitError(error, ErrorCodes.UNKNOWN_FUNCTION)).toBe(true);
    expect(error.message).toContain('no-such-function');
    expect(error.message).toContain('echo');
  });

  it('fails with SERVER_UNREACHABLE, instanceof across module registries, when no server answers', async () => {
    const { createServer } = require('node:net');
    const server = createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const closedPort = server.address().port;
    await new Promise((resolve) => server.close(resolve));

    const saved = process.env.LAMBDA_TESTKIT_URL;
    let isolated;
    process.env.LAMBDA_TESTKIT_URL = `http://127.0.0.1:${closedPort}`;
    try {
      // A second copy of the adapter in its own module registry, as another test file would get.
      jest.isolateModules(() => {
        isolated = require('@lambda-testkit/jest');
      });
      const error = await isolated.lambda.invoke('echo', {}).then(
        () => undefined,
        (e) => e,
      );
      expect(isolated.InvokeError).not.toBe(InvokeError);
      expect(error).toBeInstanceOf(InvokeError);
      expect(error).toBeInstanceOf(LambdaTestkitError);
      expect(error.code).toBe(ErrorCodes.SERVER_UNREACHABLE);
      await isolated.lambda.close();
    } finally {
      process.env.LAMBDA_TESTKIT_URL = saved;
    }
  });

  it('tells a file run without the preset what to add', async () => {
    const saved = { url: process.env.LAMBDA_TESTKIT_URL, token: process.env.LAMBDA_TESTKIT_TOKEN };
    delete process.env.LAMBDA_TESTKIT_URL;
    delete process.env.LAMBDA_TESTKIT_TOKEN;
    try {
      let isolated;
      jest.isolateModules(() => {
        isolated = require('@lambda-testkit/jest');
      });
      const error = await isolated.lambda.invoke('echo', {}).catch((e) => e);
      expect(error).toBeInstanceOf(InvokeError);
      expect(error.code).toBe(ErrorCodes.SERVER_UNREACHABLE);
      expect(error.message).toContain("preset: '@lambda-testkit/jest'");
    } finally {
      process.env.LAMBDA_TESTKIT_URL = saved.url;
      process.env.LAMBDA_TESTKIT_TOKEN = saved.token;
    }
  });

  it('exposes the pool counters of the run', async () => {
    await lambda.invoke('echo', { n: 1 });
    const stats = await lambda.stats();
    expect(stats.echo.invocations).toBeGreaterThanOrEqual(2);
    expect(stats.echo.coldStarts).toBe(1);
  });

  it('closes idempotently and reopens on the next call', async () => {
    await lambda.close();
    await lambda.close();
    const res = await lambda.invoke('echo', { again: true });
    expect(res.payload.event).toEqual({ again: true });
  });
});
