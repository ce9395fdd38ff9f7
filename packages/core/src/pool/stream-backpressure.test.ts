// Backpressure through WarmPool.invokeStream: while nobody reads the body, the pool does not read
// the instance's stream ahead. The instance here streams 96 MiB, waiting for 'drain' after each
// chunk; what it manages to write while the caller stalls is bounded by one loopback connection's
// socket buffers (Linux caps them at a few tens of MiB), far below the whole response.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import type { LambdaBackend } from '../backend.ts';
import { StreamTrailers } from '../emulator/protocol.ts';
import { resolvedFunction } from '../testing/index.ts';
import { WarmPool } from './warm-pool.ts';

const MiB = 1024 * 1024;
const TOTAL = 96 * MiB;

let server: Server | undefined;
let pool: WarmPool | undefined;
afterEach(async () => {
  await pool?.stopAll();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

it('stops pulling from the instance while the caller does not read', async () => {
  let written = 0;
  server = createServer(async (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/octet-stream', trailer: StreamTrailers.kind });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    while (written < TOTAL) {
      written += chunk.length;
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.addTrailers({ [StreamTrailers.kind]: 'success', [StreamTrailers.requestId]: 'req-1' });
    res.end();
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const backend: LambdaBackend = {
    name: 'one-server',
    launch: async () => ({ endpoint, handle: undefined }),
    terminate: async () => {},
  };
  pool = new WarmPool({ backend });
  pool.register(resolvedFunction({ name: 'big' }));

  const started = await pool.invokeStream('big', Buffer.from('{}'));
  const iterator = started.body[Symbol.asyncIterator]();
  let received = ((await iterator.next()).value as Buffer).length;

  // The caller stalls: the instance's writes must stall too, once the buffers between are full.
  let last = -1;
  let stableSince = Date.now();
  const deadline = Date.now() + 20_000;
  while (Date.now() - stableSince < 500) {
    if (Date.now() > deadline) throw new Error(`the writer never stalled (wrote ${written} bytes)`);
    if (written !== last) {
      last = written;
      stableSince = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(written).toBeLessThan(TOTAL / 2);

  for (let step = await iterator.next(); !step.done; step = await iterator.next())
    received += step.value.length;
  expect(received).toBe(TOTAL);
  expect(await started.outcome).toMatchObject({ kind: 'success', requestId: 'req-1', size: TOTAL });
});
