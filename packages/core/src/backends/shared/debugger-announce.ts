/**
 * The one line a debugged instance prints. Each time the runtime starts (first invoke, and again
 * after a reset) lambda-testkit's emulator writes "lambda-testkit-emulator: debugger on ws://…" with
 * the address of its inspector proxy; in a sandbox without that emulator (RIE), Node's own
 * "Debugger listening on ws://…" line of the runtime is read instead. This turns the address as the
 * sandbox sees it into the one the host reaches and prints it.
 */
import { type DebuggerAddress, debuggerLine, inspectorUrlIn } from '../../debug.ts';
import type { ResolvedFunction } from '../../function-spec.ts';
import type { LineLog } from '../../instance-logs.ts';
import type { LogLine } from '../../log.ts';

export interface DebuggerAnnounceOptions {
  fn: ResolvedFunction;
  instanceId: string;
  /**
   * `emulator`: lambda-testkit's emulator proxies the inspector and holds the timeout while a
   * debugger is attached; `runtime`: Node's line of a runtime behind RIE, timeouts lifted.
   */
  from: 'emulator' | 'runtime';
  /**
   * From the runtime's inspector URL to the host's (Docker: the published port on 127.0.0.1);
   * undefined for a line that is not the runtime's (nothing is printed then).
   */
  toHost?: (url: URL) => URL | undefined;
  log: LogLine;
  /** Called with each address, after the line is printed. */
  onAddress?: (address: DebuggerAddress) => void;
}

/** Watches `logs` for the inspector's line of a debugged function; returns the unsubscribe. */
export function announceDebugger(logs: LineLog, options: DebuggerAnnounceOptions): () => void {
  const { fn } = options;
  if (!fn.debug) return () => {};
  const wait = fn.debug.wait;
  return logs.watch((line) => {
    const inside = inspectorUrlIn(line, options.from);
    if (!inside) return;
    const url = options.toHost ? options.toHost(inside) : inside;
    if (!url) return;
    const address: DebuggerAddress = {
      functionName: fn.name,
      instanceId: options.instanceId,
      url: url.href,
      wait,
      timeouts: options.from === 'emulator' ? 'held-while-attached' : 'lifted',
    };
    options.log(debuggerLine(address));
    options.onAddress?.(address);
  });
}
