/**
 * Debugging a function: the Node inspector in its runtime, and what a debugged function changes
 * for everyone else (its timeout). Shared by the pool, both backends and the host.
 */
import type { ResolvedFunction } from './function-spec.ts';

/**
 * The lifted timeout of a debugged function, in seconds: long enough that a handler paused at a
 * breakpoint is not killed, short enough that a forgotten session still ends. The pool's deadline
 * for one invoke and the pool client's request deadline use it while debug is on (lambda-testkit's
 * emulator enforces the function's own timeout, held while a debugger is attached); a sandbox
 * without that emulator (an AWS base image, RIE) gets it as its function timeout.
 */
export const DEBUG_TIMEOUT_SECONDS = 24 * 60 * 60;

/** The inspector's port inside a container (published on 127.0.0.1 at a port the engine picks). */
export const CONTAINER_INSPECTOR_PORT = 9229;

/**
 * The pool's view of the runtime's timeout in seconds: the function's own, or `DEBUG_TIMEOUT_SECONDS`
 * while it is debugged (the pool does not see the debugger come and go; the emulator does).
 */
export function invokeTimeoutSeconds(fn: Pick<ResolvedFunction, 'timeout' | 'debug'>): number {
  return fn.debug ? DEBUG_TIMEOUT_SECONDS : fn.timeout;
}

/**
 * `NODE_OPTIONS` with the inspector flag added: `--inspect` (listen, run on) or `--inspect-wait`
 * (listen, hold the runtime until a debugger attaches). Node reads both from `NODE_OPTIONS`.
 */
export function withInspectorOption(
  nodeOptions: string | undefined,
  address: string,
  debug: { wait: boolean },
): string {
  const flag = `${debug.wait ? '--inspect-wait' : '--inspect'}=${address}`;
  return [nodeOptions, flag].filter(Boolean).join(' ');
}

/** The emulator's line once the proxy has a runtime behind it: `… debugger on ws://<host>:<port>/<id> …`. */
const EMULATOR_INSPECTOR = /^lambda-testkit-emulator: debugger on (ws:\/\/\S+)/;

/** Node's own line when the inspector listens: `Debugger listening on ws://127.0.0.1:9229/<uuid>`. */
const INSPECTOR_LISTENING = /Debugger listening on (ws:\/\/\S+)/;

/**
 * The WebSocket URL in Node's "Debugger listening on" line (`from: 'runtime'`) or in the line of
 * lambda-testkit's emulator (`from: 'emulator'`), or undefined for any other line.
 */
export function inspectorUrlIn(line: string, from: 'runtime' | 'emulator' = 'runtime'): URL | undefined {
  const match = (from === 'emulator' ? EMULATOR_INSPECTOR : INSPECTOR_LISTENING).exec(line);
  if (!match?.[1]) return undefined;
  try {
    return new URL(match[1]);
  } catch {
    return undefined;
  }
}

/** What one debugged instance prints once its runtime's inspector listens. */
export interface DebuggerAddress {
  functionName: string;
  instanceId: string;
  /** `ws://127.0.0.1:<port>/<id>` as seen from the host. */
  url: string;
  wait: boolean;
  /**
   * `held-while-attached`: lambda-testkit's emulator holds the function timeout while a debugger is
   * attached; `lifted`: the sandbox cannot tell (RIE), its timeout is `DEBUG_TIMEOUT_SECONDS`.
   */
  timeouts: 'held-while-attached' | 'lifted';
}

/** The one line printed per debugged runtime: where to attach, and what happens to its timeout. */
export function debuggerLine(address: DebuggerAddress): string {
  const { hostname, port } = new URL(address.url);
  const hostPort = `${hostname}:${port}`;
  return (
    `debugger for "${address.functionName}" (instance ${address.instanceId}) on ${address.url}` +
    (address.wait ? ', waiting for a debugger to attach' : '') +
    ` (VS Code: attach to ${hostPort}; Chrome: chrome://inspect, Configure ${hostPort}); ` +
    (address.timeouts === 'held-while-attached'
      ? `the timeout of "${address.functionName}" is held while a debugger is attached`
      : `timeouts of "${address.functionName}" are lifted to ${DEBUG_TIMEOUT_SECONDS / 3600} h while debug is on`)
  );
}
