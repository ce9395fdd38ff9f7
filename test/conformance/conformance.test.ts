/**
 * Conformance of the emulator + runtime client pair, run twice: against lambda-testkit's own Node
 * bootstrap and against AWS's aws-lambda-ric@4. Expectations are RIE's (docs/lambda-apis.md#rie-answers);
 * where AWS's client itself answers differently, the test names the difference and docs/emulator.md
 * lists it.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import {
  CLIENTS,
  type EmulatorUnderTest,
  INVOKE_PATH,
  isAlive,
  type RuntimeClient,
  type StartOptions,
  startEmulator,
  waitUntilGone,
} from './harness.ts';

const MAX_PAYLOAD = 6 * 1024 * 1024 + 100;

describe.each(CLIENTS)('emulator with the $name runtime client', (client: RuntimeClient) => {
  const running: EmulatorUnderTest[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((e) => e.close()));
  });

  async function start(handler: string, options: Partial<StartOptions> = {}): Promise<EmulatorUnderTest> {
    const emulator = await startEmulator({ handler, client, ...options });
    running.push(emulator);
    return emulator;
  }

  function json(text: string): Record<string, unknown> {
    return JSON.parse(text) as Record<string, unknown>;
  }

  test('success: 200 with the handler result, module state kept across warm invokes', async () => {
    const emulator = await start('basic.success');
    const first = await emulator.invoke({ n: 1 });
    const second = await emulator.invoke({ n: 2 });
    expect(first.status).toBe(200);
    expect(json(first.text)).toMatchObject({
      invocations: 1,
      event: { n: 1 },
      arn: 'arn:aws:lambda:eu-west-1:111122223333:function:conformance-fn',
    });
    expect(json(second.text)).toMatchObject({ invocations: 2, event: { n: 2 } });
    expect(json(second.text).pid).toBe(json(first.text).pid);
  });

  test('START/END/REPORT lines frame each invoke with the id the runtime got; Init Duration only when cold', async () => {
    const emulator = await start('basic.success');
    const first = json((await emulator.invoke({ n: 1 })).text);
    const second = json((await emulator.invoke({ n: 2 })).text);
    const coldLogs = await emulator.logsOf(String(first.requestId));
    const warmLogs = await emulator.logsOf(String(second.requestId));
    expect(coldLogs).toMatch(new RegExp(`^START RequestId: ${first.requestId} Version: \\$LATEST\\n`));
    expect(coldLogs).toContain('success handler got {"n":1}');
    expect(coldLogs).toContain(`END RequestId: ${first.requestId}\n`);
    // Lambda's order (not RIE's): the metrics, then Init Duration.
    expect(coldLogs).toMatch(
      /REPORT RequestId: \S+\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t\n$/,
    );
    expect(warmLogs).toMatch(/REPORT RequestId: \S+\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t/);
    expect(warmLogs).not.toContain('Init Duration');
  });

  test('X-Amzn-Trace-Id reaches the handler as _X_AMZN_TRACE_ID, and is gone on a call without one', async () => {
    const emulator = await start('trace.handler');
    const header = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    const traced = json((await emulator.invoke({}, { 'x-amzn-trace-id': header })).text);
    expect(traced).toMatchObject({ traceEnv: header, xRayTraceId: header });
    // Both clients delete the variable when the runtime API sends no Lambda-Runtime-Trace-Id (a
    // warm call never sees the previous call's trace) and give context.xRayTraceId ''. The pool
    // always sends one; only a direct call of the emulator can lack it.
    const untraced = json((await emulator.invoke({})).text);
    expect(untraced).toEqual({ traceEnv: null, xRayTraceId: '' });
  });

  test('the qualifier header of lambda-testkit reaches the handler as the qualified invokedFunctionArn', async () => {
    const emulator = await start('basic.success');
    const qualified = json((await emulator.invoke({}, { 'x-lambda-testkit-qualifier': 'live' })).text);
    expect(qualified.arn).toBe('arn:aws:lambda:eu-west-1:111122223333:function:conformance-fn:live');
    const plain = json((await emulator.invoke({})).text);
    expect(plain.arn).toBe('arn:aws:lambda:eu-west-1:111122223333:function:conformance-fn');
  });

  test("lambda-testkit's request id header becomes the invocation's request id", async () => {
    const emulator = await start('basic.success');
    const id = '0f5e2a4c-1b7d-4c8e-9a3f-6d2b1e0c9a87';
    const answer = json((await emulator.invoke({}, { 'x-lambda-testkit-request-id': id })).text);
    expect(answer.requestId).toBe(id);
    expect(await emulator.logsOf(id)).toContain(`START RequestId: ${id} `);
    const fresh = json((await emulator.invoke({})).text);
    expect(fresh.requestId).not.toBe(id);
  });

  test('CommonJS module.exports, .js in a type:module package, folders and nested handler paths resolve', async () => {
    const cjs = await start('plain.handler');
    expect(json((await cjs.invoke({ a: 1 })).text)).toEqual({ cjs: true, event: { a: 1 } });
    const nested = await start('basic.nested.deeper.handler');
    expect((await nested.invoke({})).text).toBe('"nested ok"');
    const esmJs = await start('esm-pkg/handlers/orders.api.create');
    expect(json((await esmJs.invoke({ id: 7 })).text)).toEqual({ esm: true, created: 7 });
  });

  test('a thrown error: 200 with the Node error document {errorType, errorMessage, trace}', async () => {
    const emulator = await start('basic.throws');
    const answer = await emulator.invoke({});
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-amz-function-error')).toBeNull();
    const body = json(answer.text);
    expect(body).toMatchObject({ errorType: 'CustomError', errorMessage: 'something broke' });
    expect(Array.isArray(body.trace)).toBe(true);
    expect((body.trace as string[])[0]).toBe('CustomError: something broke');
    // A handled error keeps the runtime warm.
    const again = await emulator.invoke({});
    expect(again.status).toBe(200);
  });

  test('a thrown non-Error value is described by its type', async () => {
    const emulator = await start('basic.throwsString');
    expect(json((await emulator.invoke({})).text)).toEqual({
      errorType: 'string',
      errorMessage: 'plain string',
      trace: [],
    });
  });

  test('timeout: "Task timed out after N.00 seconds", process group killed, the next invoke respawns', async () => {
    // 2 s: the handler must print its grandchild's pid within the timer, which covers the cold start.
    const emulator = await start('basic.spawnAndHang', { env: { AWS_LAMBDA_FUNCTION_TIMEOUT: '2' } });
    const answer = await emulator.invoke({});
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('Task timed out after 2.00 seconds');
    const [, grandchild] = await emulator.waitForStdout(/grandchild pid (\d+)/);
    expect(await waitUntilGone(Number(grandchild))).toBe(true);

    const sleeper = await start('basic.sleep', { env: { AWS_LAMBDA_FUNCTION_TIMEOUT: '1' } });
    expect((await sleeper.invoke({ ms: 3000 })).text).toBe('Task timed out after 1.00 seconds');
    const recovered = await sleeper.invoke({ ms: 1 });
    expect(recovered.status).toBe(200);
    expect(recovered.text).toBe('"slept"');
  });

  test('process.exit(3) in the handler: 502 Runtime.ExitError, then a fresh runtime answers', async () => {
    const emulator = await start('basic.exitIf');
    const warm = json((await emulator.invoke({})).text);
    const answer = await emulator.invoke({ exit: true });
    expect(answer.status).toBe(502);
    const body = json(answer.text);
    expect(body.errorType).toBe('Runtime.ExitError');
    expect(body.errorMessage).toMatch(
      /^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 3$/,
    );
    const recovered = await emulator.invoke({});
    expect(recovered.status).toBe(200);
    // A new process: module state starts over.
    expect(json(recovered.text).invocations).toBe(1);
    expect(json(recovered.text).pid).not.toBe(warm.pid);
  });

  test('runtime process is kept after success and replaced after exit', async () => {
    const emulator = await start('basic.success');
    const pid = Number(json((await emulator.invoke({})).text).pid);
    expect(isAlive(pid)).toBe(true);
    await emulator.close();
    expect(await waitUntilGone(pid)).toBe(true);
  });

  test('a missing handler module: 502 Runtime.ImportModuleError', async () => {
    const emulator = await start('no-such-file.handler');
    const answer = await emulator.invoke({});
    expect(answer.status).toBe(502);
    const body = json(answer.text);
    expect(body.errorType).toBe('Runtime.ImportModuleError');
    expect(body.errorMessage).toContain("Cannot find module 'no-such-file'");
  });

  test('an ESM import of a missing package: 502 with the plain Error (not ImportModuleError), as AWS does', async () => {
    const emulator = await start('missing-package.handler');
    const answer = await emulator.invoke({});
    expect(answer.status).toBe(502);
    const body = json(answer.text);
    expect(body.errorType).toBe('Error');
    expect(body.errorMessage).toContain("Cannot find package 'lambda-testkit-package-that-does-not-exist'");
  });

  test('a syntax error in the handler module: 502 Runtime.UserCodeSyntaxError', async () => {
    // Written at test time: a broken file in the repository would break the linter.
    const root = await mkdtemp(join(tmpdir(), 'ltk-conformance-'));
    await writeFile(join(root, 'broken.mjs'), 'export const handler = async () => {\n  return 1 +;\n};\n');
    const emulator = await start('broken.handler', { taskRoot: root });
    const answer = await emulator.invoke({});
    expect(answer.status).toBe(502);
    expect(json(answer.text).errorType).toBe('Runtime.UserCodeSyntaxError');
  });

  test('a handler that is not exported: 502 Runtime.HandlerNotFound', async () => {
    const emulator = await start('basic.nope');
    const answer = await emulator.invoke({});
    expect(answer.status).toBe(502);
    expect(json(answer.text)).toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'basic.nope is undefined or not exported',
    });
  });

  test('a 7 MB response: 200 Function.ResponseSizeTooLarge, and the function still answers afterwards', async () => {
    const emulator = await start('basic.bigResponse');
    const answer = await emulator.invoke({});
    expect(answer.status).toBe(200);
    const body = json(answer.text);
    expect(body.errorType).toBe('Function.ResponseSizeTooLarge');
    expect(body.errorMessage).toMatch(
      new RegExp(
        `^Response payload size \\(\\d+ bytes\\) exceeded maximum allowed payload size \\(${MAX_PAYLOAD} bytes\\)\\.$`,
      ),
    );
    const again = await emulator.invoke({});
    expect(json(again.text).errorType).toBe('Function.ResponseSizeTooLarge');
  });

  test('a 7 MB request: 413 instead of RIE silent truncation; the emulator stays usable', async () => {
    const emulator = await start('basic.success');
    const big = Buffer.from(JSON.stringify({ blob: 'y'.repeat(7 * 1024 * 1024) }));
    const answer = await emulator.invoke(big);
    expect(answer.status).toBe(413);
    expect(json(answer.text)).toMatchObject({ errorType: 'RequestEntityTooLarge' });
    expect(json(answer.text).errorMessage).toContain(`(${big.length} bytes)`);
    expect((await emulator.invoke({ ok: 1 })).status).toBe(200);
  });

  // Which process holds a Runtime API connection is read from /proc: Linux only (docs/security.md).
  // aws-lambda-ric sends no custom header: it is let in because it is the process the emulator started.
  test.runIf(process.platform === 'linux')(
    'another process can neither take an event from the Runtime API nor forge its answer',
    async () => {
      const emulator = await start('basic.sleep');
      const api = `http://127.0.0.1:${emulator.runtimeApiPort}/2018-06-01/runtime`;
      const pending = emulator.invoke({ ms: 1_500 });
      const [, requestId] = await emulator.waitForStdout(/START RequestId: (\S+)/, 10_000);
      const next = await fetch(`${api}/invocation/next`, { signal: AbortSignal.timeout(10_000) });
      expect(next.status).toBe(403);
      expect(await next.json()).toMatchObject({ errorType: 'AccessDenied' });
      const forged = await fetch(`${api}/invocation/${requestId}/response`, {
        method: 'POST',
        body: '{"hijacked":true}',
      });
      expect(forged.status).toBe(403);
      await forged.arrayBuffer();
      const answer = await pending;
      expect(answer.status).toBe(200);
      expect(answer.text).toBe('"slept"');
      // The runtime was not displaced: it takes the next event too.
      expect((await emulator.invoke({ ms: 1 })).text).toBe('"slept"');
    },
  );

  test('two concurrent requests: the second gets 429 Runtime.ConcurrentInvocation at once, the first succeeds', async () => {
    const emulator = await start('basic.sleep');
    const first = emulator.invoke({ ms: 800 });
    await new Promise((r) => setTimeout(r, 200));
    const startedAt = Date.now();
    const second = await emulator.invoke({ ms: 1 });
    expect(Date.now() - startedAt).toBeLessThan(500);
    expect(second.status).toBe(429);
    expect(json(second.text).errorType).toBe('Runtime.ConcurrentInvocation');
    const firstAnswer = await first;
    expect(firstAnswer.status).toBe(200);
    expect(firstAnswer.text).toBe('"slept"');
  });

  test('client context: X-Amz-Client-Context (base64) reaches context.clientContext decoded', async () => {
    const emulator = await start('basic.context');
    const clientContext = { custom: { tenant: 'acme', note: 'grüße' }, env: { platform: 'test' } };
    const answer = await emulator.invoke(
      {},
      { 'X-Amz-Client-Context': Buffer.from(JSON.stringify(clientContext)).toString('base64') },
    );
    expect(answer.status).toBe(200);
    expect(json(answer.text).clientContext).toEqual(clientContext);
  });

  test('bad base64 client context: 500 (as RIE) with a body naming the problem', async () => {
    const emulator = await start('basic.context');
    const answer = await emulator.invoke({}, { 'X-Amz-Client-Context': 'not base64!!' });
    expect(answer.status).toBe(500);
    expect(json(answer.text).errorType).toBe('InvalidClientContext');
    expect(json(answer.text).errorMessage).toContain('not valid base64');
  });

  test('context: getRemainingTimeInMillis counts down from the timeout; function variables', async () => {
    const emulator = await start('basic.context', { env: { AWS_LAMBDA_FUNCTION_TIMEOUT: '5' } });
    const body = json((await emulator.invoke({})).text);
    expect(body.remaining).toBeGreaterThan(3_000);
    expect(body.remaining).toBeLessThanOrEqual(5_000);
    expect(body).toMatchObject({
      functionName: 'conformance-fn',
      memoryLimitInMB: '256',
      functionVersion: '$LATEST',
    });
  });

  test('response streaming: the chunks arrive as one body', async () => {
    const emulator = await start('basic.streamOk');
    const answer = await emulator.invoke({});
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('hello stream');
  });

  test('HttpResponseStream: JSON prelude, 8 NUL bytes, then the body', async () => {
    const emulator = await start('basic.streamHttp');
    const answer = await emulator.invoke({});
    const prelude = JSON.stringify({ statusCode: 201, headers: { 'x-a': 'b' } });
    expect(answer.body.subarray(0, prelude.length).toString()).toBe(prelude);
    expect([...answer.body.subarray(prelude.length, prelude.length + 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(answer.body.subarray(prelude.length + 8).toString()).toBe('body');
  });

  test('a stream that errors midway: rie profile 200 with the partial body; lambda profile the trailer error', async () => {
    const rie = await start('basic.streamFails');
    const answer = await rie.invoke({});
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('part1');
    const lambda = await start('basic.streamFails', { profile: 'lambda' });
    const failed = await lambda.invoke({});
    expect(failed.status).toBe(200);
    expect(failed.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(json(failed.text)).toMatchObject({ errorType: 'Error', errorMessage: 'stream broke midway' });
  });

  test('callback handler on nodejs24.x: rejected at init with Runtime.CallbackHandlerDeprecated', async () => {
    const emulator = await start('callback.handler', { env: { LAMBDA_TESTKIT_RUNTIME: 'nodejs24.x' } });
    const answer = await emulator.invoke({ a: 1 });
    expect(answer.status).toBe(502);
    expect(json(answer.text).errorType).toBe('Runtime.CallbackHandlerDeprecated');
  });

  test('callback handler on nodejs22.x: answered through the callback (aws-lambda-ric@4 rejects it, see docs)', async () => {
    const emulator = await start('callback.handler', { env: { LAMBDA_TESTKIT_RUNTIME: 'nodejs22.x' } });
    const answer = await emulator.invoke({ a: 1 });
    if (client.name === 'ric') {
      // aws-lambda-ric@4 is the nodejs24.x client: on nodejs22.x it rejects callbacks too
      // (its Managed Instances message). The nodejs22.x managed runtime (aws-lambda-ric@3) accepts them.
      expect(answer.status).toBe(502);
      expect(json(answer.text).errorType).toBe('Runtime.CallbackHandlerDeprecated');
      return;
    }
    expect(answer.status).toBe(200);
    expect(json(answer.text)).toEqual({ via: 'callback', event: { a: 1 } });
  });

  test('nodejs22.x callbackWaitsForEmptyEventLoop: waits for timers unless set to false', async () => {
    const env = { LAMBDA_TESTKIT_RUNTIME: 'nodejs22.x' };
    const waits = await start('callback.waits', { env });
    const started = Date.now();
    const answer = await waits.invoke({});
    if (client.name === 'ric') {
      // See the previous test: aws-lambda-ric@4 has no callback convention at all.
      expect(json(answer.text).errorType).toBe('Runtime.CallbackHandlerDeprecated');
      return;
    }
    expect(answer.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const noWait = await start('callback.noWait', { env });
    const quickStart = Date.now();
    expect((await noWait.invoke({})).text).toBe('"answered without waiting"');
    expect(Date.now() - quickStart).toBeLessThan(2_000);
  });

  test('an uncaught exception from a timer ends the runtime; the next invoke gets a fresh one', async () => {
    const emulator = await start('basic.uncaught');
    const answer = await emulator.invoke({ crash: true });
    if (client.name === 'own') {
      // As the Node runtime: the error is posted for the invocation, then the process exits (129).
      expect(answer.status).toBe(200);
      expect(json(answer.text)).toMatchObject({
        errorType: 'TypeError',
        errorMessage: 'thrown from a timer',
      });
    } else {
      // aws-lambda-ric@4 installs no handler: Node dies with exit status 1 before anything is posted.
      expect(answer.status).toBe(502);
      expect(json(answer.text).errorType).toBe('Runtime.ExitError');
    }
    const next = await emulator.invoke({});
    expect(next.status).toBe(200);
    expect(json(next.text).invocations).toBe(1);
  });

  test('an unhandled rejection ends the runtime', async () => {
    const emulator = await start('basic.unhandledRejection');
    const answer = await emulator.invoke({});
    if (client.name === 'own') {
      expect(answer.status).toBe(200);
      expect(json(answer.text)).toMatchObject({
        errorType: 'Runtime.UnhandledPromiseRejection',
        errorMessage: 'RangeError: nobody handles me',
      });
    } else {
      expect(answer.status).toBe(502);
      expect(json(answer.text).errorType).toBe('Runtime.ExitError');
    }
  });

  test('layer packages: require honours NODE_PATH; ESM import resolves them too (own bootstrap only)', async () => {
    // Written at test time: git ignores folders named node_modules.
    const opt = await mkdtemp(join(tmpdir(), 'ltk-layer-'));
    const pkg = join(opt, 'nodejs', 'node_modules', 'conformance-layer-pkg');
    await mkdir(pkg, { recursive: true });
    await writeFile(
      join(pkg, 'package.json'),
      '{"name":"conformance-layer-pkg","main":"index.cjs","exports":{"import":"./index.mjs","require":"./index.cjs"}}',
    );
    await writeFile(join(pkg, 'index.mjs'), "export const origin = 'layer (esm)';\n");
    await writeFile(join(pkg, 'index.cjs'), "exports.origin = 'layer (cjs)';\n");
    const env = {
      NODE_PATH: `${join(opt, 'nodejs', 'node24', 'node_modules')}:${join(opt, 'nodejs', 'node_modules')}`,
    };
    const cjs = await start('layer-require.handler', { env });
    expect(json((await cjs.invoke({})).text)).toEqual({ origin: 'layer (cjs)' });
    const esm = await start('layer-import.handler', { env });
    const answer = await esm.invoke({});
    if (client.name === 'own') {
      expect(json(answer.text)).toEqual({ origin: 'layer (esm)' });
    } else {
      // aws-lambda-ric@4 adds no ESM resolution for NODE_PATH; AWS's managed runtime documents support.
      expect(answer.status).toBe(502);
      expect(json(answer.text).errorMessage).toContain("Cannot find package 'conformance-layer-pkg'");
    }
  });

  test('an empty or non-JSON payload: {} and Runtime.UnmarshalError (own); aws-lambda-ric@4 exits', async () => {
    const emulator = await start('basic.success');
    const answer = await emulator.invoke(Buffer.alloc(0));
    const notJson = await emulator.invoke(Buffer.from('not json'));
    if (client.name === 'own') {
      expect(answer.status).toBe(200);
      expect(json(answer.text).event).toEqual({});
      expect(notJson.status).toBe(200);
      expect(json(notJson.text).errorType).toBe('Runtime.UnmarshalError');
    } else {
      expect(answer.status).toBe(502);
      expect(json(answer.text).errorType).toBe('Runtime.ExitError');
      expect(notJson.status).toBe(502);
      expect(json(notJson.text).errorType).toBe('Runtime.ExitError');
    }
  });

  test('only the RIE route answers; other paths get Go-style 404', async () => {
    const emulator = await start('basic.success');
    const res = await fetch(`${emulator.url}/2015-03-31/functions/other/invocations`, {
      method: 'POST',
      body: '{}',
    });
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('404 page not found\n');
    // RIE checks no method on its route.
    const put = await fetch(`${emulator.url}${INVOKE_PATH}`, { method: 'PUT', body: '{"m":"put"}' });
    expect(put.status).toBe(200);
  });
});
