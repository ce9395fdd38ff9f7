import { describe, expect, it } from 'vitest';
import type { InvocationOutcome } from '../invocation.ts';
import { EventInvocations } from './event-invocations.ts';

function outcome(kind: InvocationOutcome['kind']): InvocationOutcome {
  const failed = kind !== 'success';
  return {
    kind,
    payload: Buffer.from(failed ? '{"errorType":"Error","errorMessage":"no"}' : '1'),
    json: failed ? { errorType: 'Error', errorMessage: 'no' } : 1,
    ...(failed
      ? { functionError: 'Unhandled' as const, error: { errorType: 'Error', errorMessage: 'no' } }
      : {}),
    requestId: 'r-1',
    coldStart: false,
    durationMs: 1,
    queuedMs: 0,
    instanceId: 'i-1',
    logs: [],
    traceId: 'Root=1-00000000-000000000000000000000000',
  };
}

describe('EventInvocations', () => {
  it('retries up to maximumRetryAttempts and stops at the first success', async () => {
    const events = new EventInvocations();
    const kinds: InvocationOutcome['kind'][] = ['handled', 'timeout', 'success'];
    await events.submit('f', 'r-1', async () => outcome(kinds.shift() ?? 'success'), {
      maximumRetryAttempts: 2,
      delaysMs: [1],
    });
    expect(events.list('f')).toEqual([
      {
        requestId: 'r-1',
        functionName: 'f',
        status: 'succeeded',
        attempts: [
          { kind: 'handled', error: { errorType: 'Error', errorMessage: 'no' } },
          { kind: 'timeout', error: { errorType: 'Error', errorMessage: 'no' } },
          { kind: 'success', result: 1 },
        ],
      },
    ]);
    expect(events.counts()).toEqual({ f: { events: 1, failed: 0 } });
  });

  it('records a call that could not run as an error try, and gives up after the retries', async () => {
    const events = new EventInvocations();
    let tries = 0;
    await events.submit(
      'f',
      'r-2',
      async () => {
        tries++;
        throw new Error('launch failed');
      },
      { maximumRetryAttempts: 1, delaysMs: [1] },
    );
    expect(tries).toBe(2);
    const [record] = events.list('f');
    expect(record?.status).toBe('failed');
    expect(record?.attempts[0]).toEqual({
      kind: 'error',
      error: { errorType: 'Error', errorMessage: 'launch failed' },
    });
    expect(events.counts()).toEqual({ f: { events: 1, failed: 1 } });
  });

  it('settled() waits for pending calls; close() skips a retry that waits', async () => {
    const events = new EventInvocations();
    const done = events.submit('f', 'r-3', async () => outcome('handled'), {
      maximumRetryAttempts: 2,
      delaysMs: [60_000],
    });
    expect((await events.settled('f', 50))[0]?.status).toBe('pending');
    events.close();
    await done;
    const [record] = await events.settled('f', 1000);
    expect(record?.status).toBe('failed');
    expect(record?.attempts).toHaveLength(1);
  });
});
