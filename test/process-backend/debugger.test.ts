/**
 * Debugging a function on the ProcessBackend: the emulator's inspector proxy on 127.0.0.1 in front
 * of the runtime's inspector, a debugger attached over its WebSocket, a breakpoint on the bundled
 * TypeScript handler that lands on the `.ts` line through the source map, a pause longer than the
 * function's timeout (held while attached), and the result; once detached the timeout applies
 * again; then several debugged instances at once, each on its own port.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessBackend, WarmPool } from '@lambda-testkit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { debugFunction, runToBreakpoint } from '../support/debug-scenario.ts';
import { DebuggerLines, InspectorSession } from '../support/inspector-session.ts';

const event = (value: unknown) => Buffer.from(JSON.stringify(value));

let rootDir: string;
let lines: DebuggerLines;
let backend: ProcessBackend;
let pool: WarmPool | undefined;

beforeEach(async () => {
  rootDir = await mkdtemp(join(tmpdir(), 'ltk-process-debug-'));
  lines = new DebuggerLines();
  backend = new ProcessBackend({ rootDir, log: lines.log });
});

afterEach(async () => {
  await pool?.stopAll();
  await backend.close();
  await rm(rootDir, { recursive: true, force: true });
});

describe('debug on the ProcessBackend', () => {
  it('pauses at a breakpoint on the .ts line, past the function timeout, and returns the result', async () => {
    const { fn, bundleDir } = await debugFunction({ debug: { wait: true }, timeout: 1 });
    // A margin of 0.5 s: were the pool's deadline not lifted, it would give up on the paused call after 1.5 s.
    pool = new WarmPool({ backend, runId: 'debug-run', invokeTimeoutMarginMs: 500 });
    pool.register(fn);

    const run = await runToBreakpoint({
      invoke: () => pool!.invoke('dbg', event({ id: 'first' })),
      lines,
      bundleDir,
      pauseMs: 2_500,
    });

    expect(run.line).toMatch(
      /^debugger for "dbg" \(instance \S+\) on ws:\/\/127\.0\.0\.1:\d+\/[\w-]+, waiting/,
    );
    expect(run.line).toContain('the timeout of "dbg" is held while a debugger is attached');
    expect(run.script.url).toMatch(/^file:\/\/\/.*\/task\/index\.js$/);
    expect(run.script.sourceMapURL).toBe('index.js.map');
    expect(run.pausedLine).toBe(run.expected.bundleLine);
    expect(run.original).toEqual({
      source: expect.stringMatching(/handler\.ts$/),
      line: run.expected.tsLine,
    });
    expect(run.expected.bundleLine + 1).not.toBe(run.expected.tsLine);
    expect(run.eventId).toBe('first');
    expect(run.outcome).toMatchObject({ kind: 'success', json: { id: 'first' } });

    // The debugger has detached (runToBreakpoint closed its session): the 1 s timeout applies again.
    const late = await pool.invoke('dbg', event({ id: 'detached', delayMs: 3_000 }));
    expect(late).toMatchObject({ kind: 'timeout', instanceId: run.outcome.instanceId });
  });

  it('applies the function timeout to a debugged function while no debugger is attached', async () => {
    const { fn } = await debugFunction({ debug: true, timeout: 1 });
    pool = new WarmPool({ backend, runId: 'debug-detached' });
    pool.register(fn);
    const outcome = await pool.invoke('dbg', event({ id: 'alone', delayMs: 3_000 }));
    expect(outcome.kind).toBe('timeout');
    expect(outcome.error?.errorMessage).toMatch(/Task timed out after 1\.00 seconds/);
    await lines.next();
  });

  it('gives each debugged instance its own inspector port', async () => {
    const { fn } = await debugFunction({ debug: true, timeout: 5 });
    pool = new WarmPool({ backend, runId: 'debug-ports', maxConcurrency: 3 });
    pool.register(fn);
    // Three calls at once, each slow enough to keep its instance busy: three instances.
    const outcomes = await Promise.all(
      ['a', 'b', 'c'].map((id) => pool!.invoke('dbg', event({ id, delayMs: 1_000 }))),
    );
    expect(new Set(outcomes.map((o) => o.instanceId)).size).toBe(3);
    const addresses = await Promise.all([lines.next(), lines.next(), lines.next()]);
    const ports = addresses.map((a) => new URL(a.url).port);
    expect(new Set(ports).size).toBe(3);
    // Each port is a live inspector of a different runtime process.
    const pids = new Set<unknown>();
    for (const { url } of addresses) {
      const session = await InspectorSession.connect(url);
      const answer = (await session.send('Runtime.evaluate', {
        expression: 'process.pid',
        returnByValue: true,
      })) as { result?: { value?: unknown } };
      pids.add(answer.result?.value);
      session.close();
    }
    expect(pids).toEqual(new Set(outcomes.map((o) => (o.json as { pid: number }).pid)));
  });
});
