/**
 * Debugging a function on the DockerBackend (local image): the emulator's inspector proxy on
 * 0.0.0.0:9229 in the container in front of the runtime's inspector, that port published on
 * 127.0.0.1 only at a port the engine picks, a debugger attached over its WebSocket, a breakpoint on
 * the bundled TypeScript handler that lands on the `.ts` line through the source map, a pause longer
 * than the function's timeout (held while attached), and the result; once detached the timeout
 * applies again; then two debugged containers at once, each on its own host port.
 */

import { DockerBackend, type DockerInstance, WarmPool } from '@lambda-testkit/core';
import { CONTAINER_INSPECTOR_PORT } from '@lambda-testkit/core/internal';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureLocalImage } from '../image/local-image.ts';
import { debugFunction, runToBreakpoint } from '../support/debug-scenario.ts';
import { DebuggerLines } from '../support/inspector-session.ts';
import { docker, dockerMissing, requireDocker } from './helpers.ts';

const event = (value: unknown) => Buffer.from(JSON.stringify(value));

let lines: DebuggerLines;
let backend: DockerBackend;
let pool: WarmPool | undefined;

beforeEach(() => requireDocker());

/**
 * This suite's own tag of the local image, built from this checkout: the entrypoint's NODE_OPTIONS
 * hand-over is what is under test, and the suite's shared tag may be rebuilt from another checkout
 * by a concurrent run on the same engine between the global setup and these tests.
 */
const DEBUG_IMAGE = 'lambda-testkit/nodejs:suite-debugger';
let image: string;

beforeAll(async () => {
  if (dockerMissing()) return;
  image = (await ensureLocalImage({ tag: DEBUG_IMAGE })).tag;
  backend = new DockerBackend({ log: (line) => lines.log(line) });
});

beforeEach(() => {
  // One collector per test: a line of an earlier test's instance is never taken for this one's.
  lines = new DebuggerLines();
});

afterEach(async () => {
  await pool?.stopAll();
  pool = undefined;
});

afterAll(async () => {
  await backend?.close();
  if (image) await (await docker()).getImage(image).remove({ force: true });
});

describe('debug on the DockerBackend', () => {
  it('pauses at a breakpoint on the .ts line, past the function timeout, and returns the result', async () => {
    const { fn, bundleDir } = await debugFunction({ debug: { wait: true }, timeout: 1, image });
    pool = new WarmPool({ backend, runId: `debug-${Date.now()}`, invokeTimeoutMarginMs: 500 });
    pool.register(fn);

    const run = await runToBreakpoint({
      invoke: () => pool!.invoke('dbg', event({ id: 'in-container' })),
      lines,
      bundleDir,
      pauseMs: 2_500,
    });

    expect(run.line).toMatch(
      /^debugger for "dbg" \(instance \S+\) on ws:\/\/127\.0\.0\.1:\d+\/[\w-]+, waiting/,
    );
    expect(run.script.url).toBe('file:///var/task/index.js');
    expect(run.script.sourceMapURL).toBe('index.js.map');
    expect(run.pausedLine).toBe(run.expected.bundleLine);
    expect(run.original).toEqual({
      source: expect.stringMatching(/handler\.ts$/),
      line: run.expected.tsLine,
    });
    expect(run.eventId).toBe('in-container');
    expect(run.outcome).toMatchObject({ kind: 'success', json: { id: 'in-container' } });
    expect(run.line).toContain('the timeout of "dbg" is held while a debugger is attached');

    // The debugger has detached (runToBreakpoint closed its session): the 1 s timeout applies again.
    const late = await pool.invoke('dbg', event({ id: 'detached', delayMs: 3_000 }));
    expect(late).toMatchObject({ kind: 'timeout', instanceId: run.outcome.instanceId });

    // The inspector's port is published on the loopback interface only.
    const [instance] = backend.instances() as DockerInstance[];
    const info = await (await docker()).getContainer(instance!.containerId).inspect();
    const bindings = info.HostConfig.PortBindings?.[`${CONTAINER_INSPECTOR_PORT}/tcp`] as
      | Array<{ HostIp: string }>
      | undefined;
    expect(bindings?.map((b) => b.HostIp)).toEqual(['127.0.0.1']);
    expect(run.line).toContain(
      `127.0.0.1:${info.NetworkSettings.Ports[`${CONTAINER_INSPECTOR_PORT}/tcp`]?.[0]?.HostPort}/`,
    );
  });

  it('gives each debugged container its own host port', async () => {
    const { fn } = await debugFunction({ debug: true, timeout: 10, image });
    pool = new WarmPool({ backend, runId: `debug-ports-${Date.now()}`, maxConcurrency: 2 });
    pool.register(fn);
    const outcomes = await Promise.all(
      ['a', 'b'].map((id) => pool!.invoke('dbg', event({ id, delayMs: 1_500 }))),
    );
    expect(outcomes.map((o) => o.kind)).toEqual(['success', 'success']);
    expect(new Set(outcomes.map((o) => o.instanceId)).size).toBe(2);
    const addresses = await Promise.all([lines.next(), lines.next()]);
    expect(new Set(addresses.map((a) => new URL(a.url).port)).size).toBe(2);
    for (const { url } of addresses) expect(new URL(url).hostname).toBe('127.0.0.1');
  });
});
