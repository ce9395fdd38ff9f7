/**
 * Debugging a function: the Node inspector in its runtime, and what a debugged function changes
 * for everyone else (its timeout). Shared by the pool, both backends and the host.
 */
import type { ResolvedFunction } from './function-spec.ts';

/**
 * The function timeout of a debugged function, in seconds: long enough that a handler paused at a
 * breakpoint is not killed, short enough that a forgotten session still ends. The emulator (or
 * RIE), the pool's deadline for one invoke and the pool client's request deadline all use it.
 */
export const DEBUG_TIMEOUT_SECONDS = 24 * 60 * 60;

/** The inspector's port inside a container (published on 127.0.0.1 at a port the engine picks). */
export const CONTAINER_INSPECTOR_PORT = 9229;

/**
 * The runtime's timeout in seconds: the function's own, or `DEBUG_TIMEOUT_SECONDS` while it is
 * debugged (as debuggers of other Lambda tools do: a breakpoint would otherwise end in a timeout).
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

/** Node's own line when the inspector listens: `Debugger listening on ws://127.0.0.1:9229/<uuid>`. */
const INSPECTOR_LISTENING = /Debugger listening on (ws:\/\/\S+)/;

/** The WebSocket URL in Node's "Debugger listening on" line, or undefined for any other line. */
export function inspectorUrlIn(line: string): URL | undefined {
  const match = INSPECTOR_LISTENING.exec(line);
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
}

/** The one line printed per debugged runtime: where to attach, and that its timeouts are lifted. */
export function debuggerLine(address: DebuggerAddress): string {
  const { hostname, port } = new URL(address.url);
  const hostPort = `${hostname}:${port}`;
  return (
    `debugger for "${address.functionName}" (instance ${address.instanceId}) on ${address.url}` +
    (address.wait ? ', waiting for a debugger to attach' : '') +
    ` (VS Code: attach to ${hostPort}; Chrome: chrome://inspect, Configure ${hostPort}); ` +
    `timeouts of "${address.functionName}" are lifted to ${DEBUG_TIMEOUT_SECONDS / 3600} h while debug is on`
  );
}
