import PQueue from 'p-queue';
import { describe, expect, it } from 'vitest';
import { addWhileWaiting } from './queue-while-waiting.ts';

describe('addWhileWaiting', () => {
  it('starts a task at once when a place is free, and a signal aborted later does not touch it', async () => {
    const queue = new PQueue({ concurrency: 1 });
    const stop = new AbortController();
    let release!: () => void;
    let started = false;
    const run = addWhileWaiting(queue, () => {
      started = true;
      return new Promise<string>((resolve) => {
        release = () => resolve('done');
      });
    }, [stop.signal]);
    expect(started).toBe(true); // within the call: no wait
    expect(queue.pending).toBe(1);
    stop.abort(new Error('stopped'));
    release();
    await expect(run).resolves.toBe('done');
  });

  it('refuses a task whose signal is already aborted, free place or not', async () => {
    const queue = new PQueue({ concurrency: 1 });
    const stop = new AbortController();
    const reason = new Error('stopped');
    stop.abort(reason);
    let ran = false;
    await expect(
      addWhileWaiting(queue, async () => {
        ran = true;
      }, [new AbortController().signal, stop.signal]),
    ).rejects.toBe(reason);
    expect(ran).toBe(false);
  });

  it('cancels a waiting task when a signal aborts, and frees its place in the line', async () => {
    const queue = new PQueue({ concurrency: 1 });
    let release!: () => void;
    const first = addWhileWaiting(queue, () => new Promise<void>((resolve) => (release = resolve)), []);
    const stop = new AbortController();
    let ran = false;
    const waiting = addWhileWaiting(queue, async () => {
      ran = true;
    }, [stop.signal]);
    const third = addWhileWaiting(queue, async () => 'third', []);
    expect(queue.size).toBe(2);
    const reason = new Error('gone');
    stop.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(queue.size).toBe(1);
    release();
    await first;
    await expect(third).resolves.toBe('third');
    expect(ran).toBe(false);
  });

  it('detaches the signals once a waiting task starts: an abort then does not free its place', async () => {
    const queue = new PQueue({ concurrency: 1 });
    let releaseFirst!: () => void;
    const first = addWhileWaiting(queue, () => new Promise<void>((resolve) => (releaseFirst = resolve)), []);
    const stop = new AbortController();
    let releaseSecond!: () => void;
    const second = addWhileWaiting(
      queue,
      () => new Promise<string>((resolve) => (releaseSecond = () => resolve('second'))),
      [stop.signal],
    );
    releaseFirst();
    await first;
    await new Promise((resolve) => setImmediate(resolve)); // the second task starts
    expect(queue.pending).toBe(1);
    stop.abort(new Error('late'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.pending).toBe(1); // still holds its place
    releaseSecond();
    await expect(second).resolves.toBe('second');
  });
});
