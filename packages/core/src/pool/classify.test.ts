import { describe, expect, it } from 'vitest';
import type { InvocationKind } from '../invocation.ts';
import { classifyAnswer } from './classify.ts';

const ID = '8f0c1b2a-0000-4000-8000-000000000001';
const answer = (statusCode: number, body: string | object) => ({
  statusCode,
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});

const nodeError = {
  errorType: 'TypeError',
  errorMessage: 'boom',
  trace: ['TypeError: boom', '    at Runtime.handler (/var/task/index.js:2:9)'],
};
const pythonError = {
  errorMessage: 'division by zero',
  errorType: 'ZeroDivisionError',
  requestId: ID,
  stackTrace: ['  File "/var/task/app.py", line 2, in handler\n    return 1 / 0\n'],
};

const table: [string, ReturnType<typeof answer>, InvocationKind, string | undefined][] = [
  ['a JSON string', answer(200, '"ok"'), 'success', undefined],
  ['an object', answer(200, { statusCode: 200, body: '{}' }), 'success', undefined],
  ['non-JSON bytes', answer(200, 'plain text'), 'success', undefined],
  ['an empty body', answer(200, ''), 'success', undefined],
  ['null', answer(200, 'null'), 'success', undefined],
  [
    'an object with error keys plus its own',
    answer(200, { statusCode: 400, errorType: 'Validation', errorMessage: 'bad' }),
    'success',
    undefined,
  ],
  ['a Node handler error', answer(200, nodeError), 'handled', 'TypeError'],
  ['a Python handler error', answer(200, pythonError), 'handled', 'ZeroDivisionError'],
  ['the timeout text', answer(200, 'Task timed out after 3.00 seconds'), 'timeout', 'Sandbox.Timedout'],
  [
    'a runtime exit',
    answer(502, {
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${ID} Error: Runtime exited with error: exit status 1`,
    }),
    'exit',
    'Runtime.ExitError',
  ],
  ['an empty 502 (RIE before #86)', answer(502, ''), 'exit', 'Runtime.ExitError'],
  [
    'a Node import error',
    answer(502, {
      errorType: 'Runtime.ImportModuleError',
      errorMessage: "Error: Cannot find module 'x'",
      trace: [],
    }),
    'init',
    'Runtime.ImportModuleError',
  ],
  [
    'a handler-not-found on 200',
    answer(200, { errorType: 'Runtime.HandlerNotFound', errorMessage: 'index.nope is undefined' }),
    'init',
    'Runtime.HandlerNotFound',
  ],
  [
    'any other 502 error',
    answer(502, { errorType: 'Runtime.Unknown', errorMessage: 'x' }),
    'init',
    'Runtime.Unknown',
  ],
  [
    'an oversized response',
    answer(200, {
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage:
        'Response payload size (7000000 bytes) exceeded maximum allowed payload size (6291556 bytes).',
    }),
    'oversized',
    'Function.ResponseSizeTooLarge',
  ],
];

describe('classifyAnswer', () => {
  it.each(table)('classifies %s', (_what, input, kind, errorType) => {
    const c = classifyAnswer(input, ID);
    expect(c?.kind).toBe(kind);
    expect(c?.error?.errorType).toBe(errorType);
    expect(c?.functionError).toBe(kind === 'success' ? undefined : 'Unhandled');
  });

  it('passes success bytes through unchanged and parses JSON', () => {
    const c = classifyAnswer(answer(200, '{"b":1,  "a":[1]}'), ID);
    expect(c?.payload.toString()).toBe('{"b":1,  "a":[1]}');
    expect(c?.json).toEqual({ b: 1, a: [1] });
    expect(classifyAnswer(answer(200, 'plain'), ID)?.json).toBeUndefined();
  });

  it('keeps the handler error document verbatim and normalises traces', () => {
    const node = classifyAnswer(answer(200, nodeError), ID);
    expect(node?.payload.toString()).toBe(JSON.stringify(nodeError));
    expect(node?.error?.trace).toEqual(nodeError.trace);
    const python = classifyAnswer(answer(200, pythonError), ID);
    expect(python?.error).toEqual({
      errorType: 'ZeroDivisionError',
      errorMessage: 'division by zero',
      trace: pythonError.stackTrace,
    });
    const legacy = classifyAnswer(
      answer(200, {
        errorType: 'E',
        errorMessage: 'm',
        stackTrace: [['/var/task/app.py', 2, 'handler', 'x()']],
      }),
      ID,
    );
    expect(legacy?.error?.trace).toEqual(['File "/var/task/app.py", line 2, in handler\n    x()']);
  });

  it('turns the timeout text into the Lambda error document', () => {
    const c = classifyAnswer(answer(200, 'Task timed out after 7.00 seconds'), ID);
    expect(c?.json).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${ID} Error: Task timed out after 7.00 seconds`,
    });
    expect(JSON.parse(c?.payload.toString() ?? '')).toEqual(c?.json);
  });

  it('reports a handler that returns exactly an error document as a function error (documented limit)', () => {
    expect(
      classifyAnswer(answer(200, { errorType: 'Mine', errorMessage: 'returned, not thrown' }), ID)?.kind,
    ).toBe('handled');
  });

  it.each([400, 500, 504])('leaves RIE fault status %d to the caller', (status) => {
    expect(classifyAnswer(answer(status, ''), ID)).toBeUndefined();
  });
});
