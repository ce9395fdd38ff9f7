import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryWatch } from './memory-watch.ts';

const children: ChildProcess[] = [];

/** A Node process holding `mb` MB of touched memory; resolves once it holds it. */
async function holding(mb: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `globalThis.kept = Buffer.alloc(${mb} * 1024 * 1024, 1); console.log('ready'); setInterval(() => {}, 1e6);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the memory holder exited early (${code})`)));
  });
  return child;
}

/** Whether this process holds `/proc/<pid>/status` open. */
function holdsStatusOf(pid: number): boolean {
  return readdirSync('/proc/self/fd').some((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === `/proc/${pid}/status`;
    } catch {
      return false; // the descriptor of the listing itself, closed meanwhile
    }
  });
}

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

describe.runIf(process.platform === 'linux')('MemoryWatch', () => {
  it('kills a runtime over its limit at the first sample, and reports its peak', async () => {
    const child = await holding(64);
    let exceeded = 0;
    const watch = new MemoryWatch(child.pid!, 32, () => exceeded++);
    watch.start();
    expect(exceeded).toBe(1);
    expect(watch.outOfMemory).toBe(true);
    expect(watch.peakMb).toBeGreaterThanOrEqual(64);
    watch.sample();
    expect(exceeded).toBe(1); // once only
    watch.close();
  });

  it('keeps the peak of a runtime under its limit after it is gone, and lets go of its status file', async () => {
    const child = await holding(16);
    let exceeded = 0;
    const watch = new MemoryWatch(child.pid!, 1024, () => exceeded++);
    watch.start();
    watch.sample();
    watch.stop();
    const peak = watch.peakMb;
    expect(peak).toBeGreaterThanOrEqual(16);
    expect(holdsStatusOf(child.pid!)).toBe(true); // held between samples
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
    watch.sample(); // a gone process: nothing read, nothing lost
    expect(watch.peakMb).toBe(peak);
    watch.close();
    watch.close();
    expect(holdsStatusOf(child.pid!)).toBe(false);
    expect(exceeded).toBe(0);
    expect(watch.outOfMemory).toBe(false);
  });

  it('samples a working runtime on a timer, so growth during an invocation is seen', async () => {
    const child = spawn(
      process.execPath,
      [
        '-e',
        "console.log('ready'); process.stdin.once('data', () => { globalThis.kept = Buffer.alloc(96 * 1024 * 1024, 1); }); setInterval(() => {}, 1e6);",
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    children.push(child);
    await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
    const killed = new Promise<void>((resolve) => {
      const watch = new MemoryWatch(child.pid!, 64, () => {
        watch.close();
        resolve();
      });
      watch.start();
    });
    child.stdin?.write('grow\n');
    await killed; // bounded by the test timeout: without timed samples it never comes
  });
});
