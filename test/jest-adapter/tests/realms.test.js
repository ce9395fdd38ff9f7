// `instanceof` of the adapter's errors across the module realms a Jest run has: the test file's
// VM context, a fresh V8 context, and core's own ESM errors module loaded next to the CJS bundle.
const { readFileSync } = require('node:fs');
const vm = require('node:vm');
const { ConfigError, ErrorCodes, InvokeError, LambdaTestkitError } = require('@lambda-testkit/jest');

/** Evaluates the built worker bundle in a new V8 context: its classes are another realm's. */
function loadInNewRealm() {
  const file = require.resolve('@lambda-testkit/jest');
  const module = { exports: {} };
  const context = vm.createContext({ module, exports: module.exports, require, process, Buffer, console });
  vm.runInContext(`(function (module, exports, require) {${readFileSync(file, 'utf8')}\n})`, context, {
    filename: file,
  })(module, module.exports, require);
  return module.exports;
}

describe('errors pass instanceof across realms', () => {
  it('an error made in another V8 realm is instanceof the classes this file imported', () => {
    const other = loadInNewRealm();
    expect(other.InvokeError).not.toBe(InvokeError);
    const error = new other.InvokeError(ErrorCodes.POOL_STOPPED, 'made in another realm');
    // The prototype chain really differs: only the Symbol.for brand can answer.
    expect(Object.getPrototypeOf(error)).not.toBe(InvokeError.prototype);
    expect(error).toBeInstanceOf(InvokeError);
    expect(error).toBeInstanceOf(LambdaTestkitError);
    expect(error).not.toBeInstanceOf(ConfigError);
    expect(error.code).toBe('LTK_POOL_STOPPED');
  });

  it("an error from the adapter is instanceof core's own ESM errors module", async () => {
    const core = await import('@lambda-testkit/core/errors');
    expect(core.InvokeError).not.toBe(InvokeError);
    const fromAdapter = new InvokeError(ErrorCodes.INVOKE_TIMEOUT, 'from the adapter bundle');
    expect(fromAdapter).toBeInstanceOf(core.InvokeError);
    expect(fromAdapter).toBeInstanceOf(core.LambdaTestkitError);
    const fromCore = new core.ConfigError(core.ErrorCodes.CONFIG_INVALID, 'from core');
    expect(fromCore).toBeInstanceOf(ConfigError);
    expect(fromCore).not.toBeInstanceOf(InvokeError);
  });

  it('a real failure thrown by the helper is instanceof core and adapter classes alike', async () => {
    const core = await import('@lambda-testkit/core/errors');
    const { lambda } = require('@lambda-testkit/jest');
    const error = await lambda.invoke('no-such-function', {}).catch((e) => e);
    expect(error).toBeInstanceOf(LambdaTestkitError);
    expect(error).toBeInstanceOf(core.LambdaTestkitError);
    expect(error.code).toBe(ErrorCodes.UNKNOWN_FUNCTION);
  });
});
