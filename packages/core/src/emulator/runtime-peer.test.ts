import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { peerOfConnection } from './runtime-peer.ts';

let server: Server | undefined;
let leader: ChildProcess | undefined;
afterEach(async () => {
  if (leader?.pid !== undefined) {
    try {
      process.kill(-leader.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  leader = undefined;
  server?.close();
  server = undefined;
});

/** A loopback server; resolves each accepted socket in order. */
async function listen(): Promise<{ port: number; accepted: () => Promise<Socket> }> {
  const queue: Socket[] = [];
  const waiting: ((s: Socket) => void)[] = [];
  server = createServer((socket) => {
    socket.on('error', () => {});
    const next = waiting.shift();
    if (next) next(socket);
    else queue.push(socket);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    accepted: () => {
      const ready = queue.shift();
      return ready ? Promise.resolve(ready) : new Promise((r) => waiting.push(r));
    },
  };
}

const verdictOf = (socket: Socket, pgid: number | undefined) =>
  peerOfConnection(socket.remotePort ?? -1, socket.localPort ?? -1, pgid);

describe.runIf(process.platform === 'linux')('peerOfConnection (Linux: /proc)', () => {
  test("a connection from a process of the runtime's group, the leader's child included, is the runtime's", async () => {
    const { port, accepted } = await listen();
    // The leader (as the emulator spawns the runtime: detached, its own group) connects, then starts a
    // child in its group that connects too.
    const script = `
      const { connect } = require('node:net');
      const { spawn } = require('node:child_process');
      connect(${port}, '127.0.0.1').on('connect', () => {
        spawn(process.execPath, ['-e', "require('node:net').connect(${port}, '127.0.0.1'); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
      });
      setInterval(() => {}, 1000);`;
    leader = spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore' });
    const fromLeader = await accepted();
    const fromChild = await accepted();
    expect(await verdictOf(fromLeader, leader.pid)).toBe('runtime');
    expect(await verdictOf(fromChild, leader.pid)).toBe('runtime');
    // Against another group, or with no runtime running, the same connections are someone else's.
    expect(await verdictOf(fromLeader, process.pid)).toBe('other');
    expect(await verdictOf(fromChild, undefined)).toBe('other');
  });

  test('a connection from this process (outside the group) is not the runtime', async () => {
    const { port, accepted } = await listen();
    leader = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      detached: true,
      stdio: 'ignore',
    });
    const client = connect(port, '127.0.0.1');
    client.on('error', () => {});
    try {
      expect(await verdictOf(await accepted(), leader.pid)).toBe('other');
    } finally {
      client.destroy();
    }
  });

  test('checks asked at the same moment (a burst of cold starts) each get their own verdict', async () => {
    const { port, accepted } = await listen();
    const script = `
      const { connect } = require('node:net');
      for (let i = 0; i < 4; i++) connect(${port}, '127.0.0.1');
      setInterval(() => {}, 1000);`;
    leader = spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore' });
    const fromRuntime = [await accepted(), await accepted(), await accepted(), await accepted()];
    const stranger = connect(port, '127.0.0.1');
    stranger.on('error', () => {});
    try {
      const fromStranger = await accepted();
      const verdicts = await Promise.all(
        [...fromRuntime, fromStranger].map((s) => verdictOf(s, leader?.pid)),
      );
      expect(verdicts).toEqual(['runtime', 'runtime', 'runtime', 'runtime', 'other']);
    } finally {
      stranger.destroy();
    }
  });

  test('a connection the kernel no longer lists (closed before the check) is not the runtime', async () => {
    const { port, accepted } = await listen();
    leader = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      detached: true,
      stdio: 'ignore',
    });
    const client = connect(port, '127.0.0.1');
    client.on('error', () => {});
    const socket = await accepted();
    const { remotePort, localPort } = socket;
    client.destroy();
    socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(await peerOfConnection(remotePort ?? -1, localPort ?? -1, leader.pid)).toBe('other');
  });
});
