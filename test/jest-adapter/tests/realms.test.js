// `instanceof` of the adapter's errors across the module realms a Jest run has: the test file's
// VM context and a fresh V8 context. (Core's own ESM errors module cannot be `require`d by a CJS test
// without --experimental-vm-modules; tests-esm/, run natively by test/jest-runs, checks against it.)
const { readFileSync } = require('node:fs');
const vm = require('node:vm');
const { ConfigError, ErrorCodes, InvokeError, LambdaTestkitError } = require('@lambda-testkit/jest');

/** Evaluates the built worker bundle in a new V8 context: its classes are another realm's. */
function loadInNewRealm() {
  const file = require.resolve('@lambda-testkit/jest');
  const module = { exports: {} };
  // Host objects the bundle touches at load; everything else (Error, Object, Symbol…) is the new realm's own.
  const context = vm.createContext({ process, Buffer, console, TextEncoder, TextDecoder, URL });
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

  it("a real failure thrown by another realm's helper is instanceof this file's classes", async () => {
    const other = loadInNewRealm();
    const error = await other.lambda.invoke('no-such-function', {}).catch((e) => e);
    await other.lambda.close();
    expect(error).toBeInstanceOf(LambdaTestkitError);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).not.toBeInstanceOf(InvokeError);
    expect(error.code).toBe(ErrorCodes.UNKNOWN_FUNCTION);
    expect(error.message).toContain('no-such-function');
  });
});
