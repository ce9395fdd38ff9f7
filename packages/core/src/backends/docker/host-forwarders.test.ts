// The forwarders on their own, on loopback addresses (no engine needed): a declared port pipes both
// ways, an undeclared one has no listener, and a taken address is reported instead of failing.
import { createServer, type Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { firstHostOf } from './docker-backend.ts';
import { HostForwarders } from './host-forwarders.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An echo server on 127.0.0.1 (the "host service"), on a free port. */
async function echoServer(): Promise<number> {
  const server: Server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Connects, writes, reads until the other side ends; or the connection error's code. */
function roundTrip(host: string, port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let got = '';
    socket.on('data', (d) => {
      got += d.toString();
      if (got.length >= text.length) socket.end();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    socket.on('close', () => resolve(got));
    socket.connect(port, host, () => socket.write(text));
  });
}

describe('HostForwarders', () => {
  // 127.0.0.2 stands for the bridge gateway: another local address than the service's 127.0.0.1.
  const gateway = '127.0.0.2';

  it('forwards a declared port from the gateway address to 127.0.0.1, and only that one', async () => {
    const declared = await echoServer();
    const undeclared = await echoServer();
    const forwarders = new HostForwarders(gateway);
    cleanups.push(() => forwarders.close());
    expect(await forwarders.set([declared])).toEqual([{ port: declared, state: 'listening' }]);
    expect(await roundTrip(gateway, declared, 'ping')).toBe('ping');
    expect(await roundTrip(gateway, undeclared, 'ping')).toBe('ECONNREFUSED');
    expect(await roundTrip('127.0.0.1', undeclared, 'ping')).toBe('ping');
  });

  it('closes ports that are no longer declared, and all of them on close', async () => {
    const a = await echoServer();
    const b = await echoServer();
    const forwarders = new HostForwarders(gateway);
    await forwarders.set([a, b]);
    await forwarders.set([b]);
    expect(forwarders.ports()).toEqual([b]);
    expect(await roundTrip(gateway, a, 'x')).toBe('ECONNREFUSED');
    expect(await roundTrip(gateway, b, 'x')).toBe('x');
    await forwarders.close();
    expect(await roundTrip(gateway, b, 'x')).toBe('ECONNREFUSED');
  });

  it('reports a port already taken on the gateway address as shared', async () => {
    const port = await echoServer();
    const first = new HostForwarders(gateway);
    const second = new HostForwarders(gateway);
    cleanups.push(
      () => first.close(),
      () => second.close(),
    );
    await first.set([port]);
    expect(await second.set([port])).toEqual([{ port, state: 'shared' }]);
  });

  it('resets the connection when the host service is down', async () => {
    const port = await echoServer();
    const forwarders = new HostForwarders(gateway);
    cleanups.push(() => forwarders.close());
    await forwarders.set([port]);
    // Stop the service (the last cleanup registered by echoServer), then connect through.
    const stopService = cleanups.shift();
    await stopService?.();
    const answer = await roundTrip(gateway, port, 'x');
    expect(answer === '' || answer === 'ECONNRESET').toBe(true);
  });
});

describe('firstHostOf', () => {
  it("gives a subnet's first host address, Docker's default gateway", () => {
    expect(firstHostOf('172.17.0.0/16')).toBe('172.17.0.1');
    expect(firstHostOf('192.168.5.128/25')).toBe('192.168.5.129');
    expect(firstHostOf('10.1.2.3/8')).toBe('10.0.0.1');
    expect(firstHostOf('10.0.0.0/31')).toBeUndefined();
    expect(firstHostOf('fd00::/64')).toBeUndefined();
    expect(firstHostOf(undefined)).toBeUndefined();
  });
});
