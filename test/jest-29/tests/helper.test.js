// The `lambda` helper and its errors under Jest 29 (CommonJS through babel-jest).
const { lambda, ErrorCodes, InvokeError, LambdaTestkitError } = require('@lambda-testkit/jest');

it('runs under Jest 29', () => {
  expect(require('jest/package.json').version).toMatch(/^29\./);
});

it('invokes a function through the pool', async () => {
  const res = await lambda.invoke('echo', { jest: 29 });
  expect(res.payload).toMatchObject({ event: { jest: 29 }, functionName: 'echo' });
  expect(res.logs.join('\n')).toContain('echo {"jest":29}');
});

it('reports handler errors as function errors', async () => {
  const res = await lambda.invoke('boom');
  expect(res.functionError).toBe('Unhandled');
  expect(res.error?.errorType).toBe('BoomError');
});

it('throws errors that are instanceof across module registries', async () => {
  let isolated;
  jest.isolateModules(() => {
    isolated = require('@lambda-testkit/jest');
  });
  expect(isolated.LambdaTestkitError).not.toBe(LambdaTestkitError);
  const error = await isolated.lambda.invoke('no-such-function', {}).catch((e) => e);
  expect(error).toBeInstanceOf(LambdaTestkitError);
  expect(error.code).toBe(ErrorCodes.UNKNOWN_FUNCTION);
  expect(new isolated.InvokeError(ErrorCodes.POOL_STOPPED, 'x')).toBeInstanceOf(InvokeError);
  await isolated.lambda.close();
});

it('counts one instance for all calls (maxConcurrency 1)', async () => {
  const stats = await lambda.stats();
  expect(stats.echo.coldStarts).toBe(1);
  expect(stats.echo.invocations).toBeGreaterThanOrEqual(1);
});
