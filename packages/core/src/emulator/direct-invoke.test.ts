/**
 * The emulator's direct invoke (`RunningEmulator.invokeDirect`, used by the process backend's pool)
 * against its HTTP invoke route: the same request gets the same status, headers and body bytes in both
 * profiles, and the two share the one-invocation-at-a-time guard.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from './emulator.ts';
import type { DirectAnswer, DirectInvokeRequest, Profile } from './invoke-handling.ts';
import { MAX_PAYLOAD_BYTES, QUALIFIER_HEADER, REQUEST_ID_HEADER, RIE_INVOKE_PATH } from './protocol.ts';

const fixtures = join(import.meta.dirname, '__fixtures__');
const TRACE = 'Root=1-5e1b4151-5ac6c58dc39a6b0b4d8a5b2c;Parent=53995c3f42cd8ad8;Sampled=0';

function quiet() {
  const sink = () => new PassThrough().resume();
  return { stdout: sink(), stderr: sink() };
}

const scratch = mkdtempSync(join(tmpdir(), 'ltk-direct-'));
let emulator: RunningEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Waits (bounded) until the handler wrote `path`: the invocation is then in the sandbox. */
async function started(path: string): Promise<void> {
  const until = Date.now() + 10_000;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`the handler never started (${path})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function start(profile: Profile, options: Partial<EmulatorOptions> = {}): Promise<RunningEmulator> {
  emulator = await startEmulator({
    handler: 'direct-handler.handler',
    port: 0,
    profile,
    env: {
      LAMBDA_TASK_ROOT: fixtures,
      AWS_LAMBDA_FUNCTION_NAME: 'direct-fn',
      AWS_LAMBDA_FUNCTION_TIMEOUT: '2',
      PATH: process.env.PATH ?? '',
    },
    output: quiet(),
    ...options,
  });
  return emulator;
}

/** Headers that belong to the HTTP message, not to the answer. */
const TRANSPORT_HEADERS = new Set([
  'date',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
]);

/** The same request the pool's HTTP client would send for `request`. */
async function overHttp(e: RunningEmulator, request: DirectInvokeRequest): Promise<DirectAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (request.clientContext !== undefined) headers['x-amz-client-context'] = request.clientContext;
  if (request.traceId !== undefined) headers['x-amzn-trace-id'] = request.traceId;
  if (request.qualifier !== undefined) headers[QUALIFIER_HEADER] = request.qualifier;
  if (request.requestId !== undefined) headers[REQUEST_ID_HEADER] = request.requestId;
  if (request.tenantId !== undefined) headers['x-amz-tenant-id'] = request.tenantId;
  const res = await fetch(`${e.url}${RIE_INVOKE_PATH}`, {
    method: 'POST',
    headers,
    body: Buffer.from(request.payload),
  });
  const answerHeaders: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!TRANSPORT_HEADERS.has(name)) answerHeaders[name] = value;
  });
  return { statusCode: res.status, headers: answerHeaders, body: Buffer.from(await res.arrayBuffer()) };
}

/** Both paths' answers to the same request, one after the other (a fresh request id each time unless given). */
async function both(e: RunningEmulator, request: DirectInvokeRequest) {
  const http = await overHttp(e, request);
  const direct = await e.invokeDirect(request);
  return { http, direct };
}

const event = (value: unknown) => Buffer.from(JSON.stringify(value));

describe.each<Profile>(['rie', 'lambda'])('direct invoke, %s profile', (profile) => {
  test('a success: the same status, headers and body bytes as over HTTP', async () => {
    const e = await start(profile);
    const request = {
      payload: event({ hello: 'world' }),
      clientContext: Buffer.from('{"custom":{"k":"v"}}').toString('base64'),
      traceId: TRACE,
      qualifier: 'live',
      requestId: 'same-request-id',
      tenantId: 'tenant-a',
    };
    const { http, direct } = await both(e, request);
    expect(direct).toEqual(http);
    expect(http.statusCode).toBe(200);
    expect(JSON.parse(direct.body.toString())).toMatchObject({
      event: { hello: 'world' },
      requestId: 'same-request-id',
      functionArn: expect.stringMatching(/:function:direct-fn:live$/),
      clientContext: { custom: { k: 'v' } },
      traceId: TRACE,
    });
  });

  test('header values as node:http reads them: outer whitespace dropped, invalid ones ignored', async () => {
    const e = await start(profile);
    const request = {
      payload: event({}),
      traceId: `  ${TRACE}\t`,
      qualifier: 'not a qualifier!',
      requestId: ' padded-id ',
    };
    const { http, direct } = await both(e, request);
    expect(direct).toEqual(http);
    expect(JSON.parse(direct.body.toString())).toMatchObject({ requestId: 'padded-id', traceId: TRACE });
  });

  test('the event is taken when the call is made: a caller reusing its buffer meanwhile changes nothing', async () => {
    const e = await start(profile);
    const payload = event({ n: 1 });
    // Cold: the runtime fetches the event only after it started, well after this call returned.
    const pending = e.invokeDirect({ payload });
    payload.write('{"n":2}');
    expect(JSON.parse((await pending).body.toString())).toMatchObject({ event: { n: 1 } });
  });

  test('a function error (Unhandled)', async () => {
    const e = await start(profile);
    const { http, direct } = await both(e, { payload: event({ fail: 'x' }), requestId: 'error-id' });
    expect(direct).toEqual(http);
    expect(JSON.parse(direct.body.toString())).toMatchObject({
      errorType: 'TypeError',
      errorMessage: 'failed on purpose: x',
    });
    if (profile === 'lambda') expect(direct.headers['x-amz-function-error']).toBe('Unhandled');
  });

  test('a timeout', async () => {
    const e = await start(profile);
    const { http, direct } = await both(e, { payload: event({ ms: 4_000 }), requestId: 'timeout-id' });
    expect(direct).toEqual(http);
    expect(direct.body.toString()).toContain('Task timed out after 2.00 seconds');
  });

  test('a payload over the limit is refused with the same 413', async () => {
    const e = await start(profile);
    const payload = Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20);
    const { http, direct } = await both(e, { payload });
    expect(direct).toEqual(http);
    expect(direct.statusCode).toBe(413);
    expect(direct.body.toString()).toContain(`(${MAX_PAYLOAD_BYTES + 1} bytes)`);
  });

  test.each([
    ['not base64', '!!!not-base64'],
    ['control characters', Buffer.from('{"a":"\u0001"}').toString('base64')],
  ])('a client context that is %s is refused the same way', async (_name, clientContext) => {
    const e = await start(profile);
    const { http, direct } = await both(e, { payload: event({}), clientContext });
    expect(direct).toEqual(http);
    expect(direct.statusCode).toBe(profile === 'rie' ? 500 : 400);
  });

  test('one invocation at a time, across both paths: either one in flight refuses the other with the same 429', async () => {
    const e = await start(profile, {
      env: {
        LAMBDA_TASK_ROOT: fixtures,
        AWS_LAMBDA_FUNCTION_NAME: 'direct-fn',
        AWS_LAMBDA_FUNCTION_TIMEOUT: '30',
        PATH: process.env.PATH ?? '',
      },
    });
    // Warm first, so the long calls below are in the sandbox as soon as they start.
    expect((await e.invokeDirect({ payload: event({}) })).statusCode).toBe(200);

    const directStarted = join(scratch, `${profile}-direct`);
    const directLong = e.invokeDirect({ payload: event({ ms: 1_000, startedFile: directStarted }) });
    await started(directStarted);
    const refusedHttp = await overHttp(e, { payload: event({}) });
    const refusedDirect = await e.invokeDirect({ payload: event({}) });
    expect(refusedHttp.statusCode).toBe(429);
    expect(refusedDirect).toEqual(refusedHttp);
    expect((await directLong).statusCode).toBe(200);

    const httpStarted = join(scratch, `${profile}-http`);
    const httpLong = overHttp(e, { payload: event({ ms: 1_000, startedFile: httpStarted }) });
    await started(httpStarted);
    expect(await e.invokeDirect({ payload: event({}) })).toEqual(refusedHttp);
    expect((await httpLong).statusCode).toBe(200);
  });
});
