// Native ESM test file (Jest with `node --experimental-vm-modules`): `import` of the adapter takes
// its ESM face (dist/index.mjs) over the same CommonJS module the preset's setup file uses.
import { expect, it } from '@jest/globals';
import * as coreErrors from '@lambda-testkit/core/errors';
import { ErrorCodes, InvokeError, LambdaTestkitError, lambda } from '@lambda-testkit/jest';

it('invokes from a native ESM test file', async () => {
  const res = await lambda.invoke('echo', { from: 'esm' });
  expect(res.payload.event).toEqual({ from: 'esm' });
});

it("errors are instanceof core's ESM classes and the adapter's", async () => {
  const error = await lambda.invoke('no-such-function', {}).catch((e) => e);
  expect(error).toBeInstanceOf(LambdaTestkitError);
  expect(error).toBeInstanceOf(coreErrors.LambdaTestkitError);
  expect(error.code).toBe(ErrorCodes.UNKNOWN_FUNCTION);
  expect(new coreErrors.InvokeError(coreErrors.ErrorCodes.POOL_STOPPED, 'x')).toBeInstanceOf(InvokeError);
});
