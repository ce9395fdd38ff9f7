/**
 * The one line a debugged instance prints: Node writes "Debugger listening on ws://…" to the
 * runtime's stderr each time the runtime starts (first invoke, and again after a reset), with the
 * address as the runtime sees it; this turns it into the address the host reaches and prints it.
 */
import { type DebuggerAddress, debuggerLine, inspectorUrlIn } from '../../debug.ts';
import type { ResolvedFunction } from '../../function-spec.ts';
import type { LineLog } from '../../instance-logs.ts';
import type { LogLine } from '../../log.ts';

export interface DebuggerAnnounceOptions {
  fn: ResolvedFunction;
  instanceId: string;
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
    const inside = inspectorUrlIn(line);
    if (!inside) return;
    const url = options.toHost ? options.toHost(inside) : inside;
    if (!url) return;
    const address: DebuggerAddress = {
      functionName: fn.name,
      instanceId: options.instanceId,
      url: url.href,
      wait,
    };
    options.log(debuggerLine(address));
    options.onAddress?.(address);
  });
}
