import { describe, expect, it } from 'vitest';
import {
  DEBUG_TIMEOUT_SECONDS,
  debuggerLine,
  inspectorUrlIn,
  invokeTimeoutSeconds,
  withInspectorOption,
} from './debug.ts';

describe('debug vocabulary', () => {
  it('lifts the timeout of a debugged function only', () => {
    expect(invokeTimeoutSeconds({ timeout: 3 })).toBe(3);
    expect(invokeTimeoutSeconds({ timeout: 3, debug: { wait: false } })).toBe(DEBUG_TIMEOUT_SECONDS);
  });

  it('appends the inspector flag to NODE_OPTIONS', () => {
    expect(withInspectorOption(undefined, '127.0.0.1:0', { wait: false })).toBe('--inspect=127.0.0.1:0');
    expect(withInspectorOption('--enable-source-maps', '0.0.0.0:9229', { wait: true })).toBe(
      '--enable-source-maps --inspect-wait=0.0.0.0:9229',
    );
  });

  it("reads the emulator's line, and not the runtime's own behind it", () => {
    const emulatorLine = 'lambda-testkit-emulator: debugger on ws://0.0.0.0:9229/0f1e-2d (runtime pid 12)';
    expect(inspectorUrlIn(emulatorLine, 'emulator')?.href).toBe('ws://0.0.0.0:9229/0f1e-2d');
    expect(inspectorUrlIn('Debugger listening on ws://127.0.0.1:41000/0f1e-2d', 'emulator')).toBeUndefined();
    expect(inspectorUrlIn(emulatorLine, 'runtime')).toBeUndefined();
  });

  it("reads Node's listening line, and nothing else", () => {
    expect(inspectorUrlIn('Debugger listening on ws://0.0.0.0:9229/0f1e-2d')?.href).toBe(
      'ws://0.0.0.0:9229/0f1e-2d',
    );
    expect(
      inspectorUrlIn('For help, see: https://nodejs.org/learn/getting-started/debugging'),
    ).toBeUndefined();
  });

  it('prints the function, the instance, the address and what happens to the timeout in one line', () => {
    const address = {
      functionName: 'orders',
      instanceId: 'i-1',
      url: 'ws://127.0.0.1:40213/abc',
      wait: true,
    };
    const line = debuggerLine({ ...address, timeouts: 'held-while-attached' });
    expect(line).not.toContain('\n');
    expect(line).toContain('debugger for "orders" (instance i-1) on ws://127.0.0.1:40213/abc, waiting');
    expect(line).toContain('chrome://inspect, Configure 127.0.0.1:40213');
    expect(line).toContain('the timeout of "orders" is held while a debugger is attached');
    expect(debuggerLine({ ...address, timeouts: 'lifted' })).toContain(
      'timeouts of "orders" are lifted to 24 h while debug is on',
    );
  });
});
