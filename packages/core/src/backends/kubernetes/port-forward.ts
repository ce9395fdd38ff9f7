/**
 * The invoke port of a Pod on 127.0.0.1 of this host, for a pool outside the cluster.
 *
 * A local TCP server on 127.0.0.1 (random port); each connection accepted there becomes one
 * port-forward stream to the Pod through the API server (`pods/portforward`, the WebSocket flavour
 * of @kubernetes/client-node: one WebSocket per TCP connection). The pool's HTTP client keeps its
 * connections alive, so a warm invoke reuses an open stream and pays no new handshake.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { type KubeConfig, PortForward } from '@kubernetes/client-node';

export interface PodForward {
  /** The local port on 127.0.0.1. */
  readonly port: number;
  /** Stops listening and ends every open stream. Idempotent. */
  close(): Promise<void>;
}

/** Opens a local listener that forwards to `podPort` of the Pod. */
export async function forwardPodPort(
  config: KubeConfig,
  namespace: string,
  pod: string,
  podPort: number,
): Promise<PodForward> {
  const forward = new PortForward(config, true);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // The kubelet reports a failed connection to the Pod's port on the error channel, as text. The
    // channel's first frame only carries the port number, which the client strips: an empty write.
    const errors = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (chunk.length > 0) socket.destroy();
        done();
      },
    });
    forward
      .portForward(namespace, pod, [podPort], socket, errors, socket)
      .then((ws) => {
        const webSocket = ws as unknown as {
          close(): void;
          on?(event: string, listener: () => void): void;
          addEventListener?(event: string, listener: () => void): void;
        };
        const end = () => socket.destroy();
        if (webSocket.on) {
          webSocket.on('close', end);
          webSocket.on('error', end);
        } else {
          webSocket.addEventListener?.('close', end);
          webSocket.addEventListener?.('error', end);
        }
        socket.once('close', () => webSocket.close());
        if (socket.destroyed) webSocket.close();
      })
      .catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
