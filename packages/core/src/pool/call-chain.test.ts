// Functions invoking functions through the pool (docs/wiring.md): a synchronous call that only its
// own call chain could make room for fails at once with CALL_DEADLOCK; anything else waits its turn.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LaunchContext } from '../backend.ts';
import { ErrorCodes, isTestkitError } from '../errors.ts';
import type { ResolvedFunction } from '../function-spec.ts';
import { FakeBackend, type FakeRieHandler, type FakeRieReply, resolvedFunction } from '../testing/index.ts';
import { WarmPool } from './warm-pool.ts';

const pools: WarmPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.stopAll()));
});

function fn(name: string): ResolvedFunction {
  return resolvedFunction({ name, deployId: `${name}-1` });
}

interface Step {
  /** Function to call next, synchronously as the instance's handler would. */
  call?: string;
  /** Leave out the caller's identity (what an `Event` call or a test's own call looks like). */
  anonymous?: boolean;
  next?: Step;
}

/**
 * Every instance's handler follows the event: `{ call: 'a', next: {...} }` invokes `a` with `next`
 * as its event, naming itself as the caller (the instance id arrives the way the pool server gets
 * it: from the launch environment's session token). Answers the callee's payload or the error code.
 */
function chainPool(maxConcurrency: number, names: string[]) {
  let pool: WarmPool | undefined;
  const handler =
    (_fn: ResolvedFunction, context: LaunchContext): FakeRieHandler =>
    async ({ event }) => {
      const step = event as Step;
      if (!step.call) return { body: { done: true } };
      const caller = context.environment?.CALLER_INSTANCE;
      try {
        const outcome = await (pool as WarmPool).invoke(
          step.call,
          Buffer.from(JSON.stringify(step.next ?? {})),
          {
            callerInstanceId: step.anonymous ? undefined : caller,
          },
        );
        return { body: { via: context.instanceId, inner: outcome.json } };
      } catch (error) {
        const code = isTestkitError(error) ? error.code : 'not a testkit error';
        return { body: { via: context.instanceId, code, message: String(error) } };
      }
    };
  const backend = new FakeBackend({ handler });
  pool = new WarmPool({
    backend,
    maxConcurrency,
    logWaitMs: 50,
    launchEnvironment: (_fn, instanceId) => ({ CALLER_INSTANCE: instanceId }),
  });
  pools.push(pool);
  for (const name of names) pool.register(fn(name));
  return { pool, backend };
}

const event = (step: Step) => Buffer.from(JSON.stringify(step));

describe('call chains between functions', () => {
  it('fails a self-call that would wait for its own caller, at once and with the chain', async () => {
    const { pool } = chainPool(1, ['a']);
    const started = Date.now();
    const outcome = await pool.invoke('a', event({ call: 'a' }));
    expect(outcome.json).toMatchObject({ code: ErrorCodes.CALL_DEADLOCK });
    // Well below the function timeout (3 s) plus the pool's margin: nothing waited.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(pool.stats().a?.instances).toBe(1);
  });

  it('bounds a loop by maxConcurrency: A → A → A needs three places, two are allowed', async () => {
    const { pool } = chainPool(2, ['a']);
    const once = await pool.invoke('a', event({ call: 'a' }));
    expect(once.json).toMatchObject({ inner: { done: true } });
    const twice = await pool.invoke('a', event({ call: 'a', next: { call: 'a' } }));
    expect(twice.json).toMatchObject({ inner: { code: ErrorCodes.CALL_DEADLOCK } });
    expect(pool.stats().a?.instances).toBe(2);
  });

  it('names the chain and the limit in the error', async () => {
    const { pool } = chainPool(1, ['a', 'b']);
    const outcome = await pool.invoke('a', event({ call: 'b', next: { call: 'a' } }));
    const inner = (outcome.json as { inner: { code: string; message: string } }).inner;
    expect(inner.code).toBe(ErrorCodes.CALL_DEADLOCK);
    expect(inner.message).toContain('(a → b → a)');
    expect(inner.message).toContain('maxConcurrency');
  });

  it('lets a call wait when a place is held by a call outside its chain', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let pool: WarmPool | undefined;
    const backend = new FakeBackend({
      handler:
        (f, context) =>
        async ({ event: e }): Promise<FakeRieReply> => {
          if (f.name === 'b') {
            await gate;
            return { body: { b: true } };
          }
          const outcome = await (pool as WarmPool).invoke('b', Buffer.from('{}'), {
            callerInstanceId: context.environment?.CALLER_INSTANCE,
          });
          return { body: { via: 'a', inner: outcome.json, e } };
        },
    });
    pool = new WarmPool({
      backend,
      maxConcurrency: 1,
      logWaitMs: 50,
      launchEnvironment: (_f, instanceId) => ({ CALLER_INSTANCE: instanceId }),
    });
    pools.push(pool);
    pool.register(fn('a'));
    pool.register(fn('b'));
    // A test's own call holds b's only place; a's call to b must wait for it, not fail.
    const outside = pool.invoke('b', Buffer.from('{}'));
    const chained = pool.invoke('a', Buffer.from('{}'));
    await vi.waitFor(() => expect(pool.stats().b?.queueWaits).toBe(1), { timeout: 5000 });
    release();
    expect((await outside).json).toEqual({ b: true });
    expect((await chained).json).toMatchObject({ inner: { b: true } });
    expect(pool.stats().b).toMatchObject({ instances: 1, warmHits: 1, queueWaits: 1 });
  });

  it('treats a caller id the pool does not know as no caller: the call queues as a test call would', async () => {
    const { pool } = chainPool(1, ['a']);
    const outcome = await pool.invoke('a', event({}), { callerInstanceId: 'no-such-instance' });
    expect(outcome.json).toEqual({ done: true });
  });
});
