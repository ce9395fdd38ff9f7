/**
 * TCP forwarders that make chosen host loopback ports reachable from containers, and nothing else
 * of the host (docs/wiring.md).
 *
 * Why forwarders and not `--network host`, `host-gateway` or an sshd sidecar: a server a test suite
 * starts listens on 127.0.0.1, which no container can reach; binding it elsewhere is the user's
 * business. A container reaches its network's gateway, which is an address of this machine (the
 * bridge interface). For each declared port, one `node:net` server in this process listens on the
 * gateway address at the same port and pipes each connection to 127.0.0.1:<port>. Ports nobody
 * declared have no listener on the gateway, so a container's connection to them is refused. No image
 * is pulled and nothing runs outside this process; the forwarders close with the backend.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { BackendError, ErrorCodes } from '../../errors.ts';

export interface ForwarderStatus {
  port: number;
  /** `listening`: this process forwards it; `shared`: the address was taken (see `set`). */
  state: 'listening' | 'shared';
}

export class HostForwarders {
  readonly #address: string;
  readonly #servers = new Map<number, Server>();
  readonly #sockets = new Set<Socket>();

  /** @param address the address to listen on: the containers' network gateway. */
  constructor(address: string) {
    this.#address = address;
  }

  get address(): string {
    return this.#address;
  }

  /** The ports forwarded now. */
  ports(): number[] {
    return [...this.#servers.keys()].sort((a, b) => a - b);
  }

  /**
   * Forwards exactly `ports` from now on: opens the missing ones, closes the others. A port already
   * taken on the gateway address (a server listening on every interface, which containers reach
   * anyway, or another run forwarding the same port) is reported `shared` rather than failing the run.
   */
  async set(ports: readonly number[]): Promise<ForwarderStatus[]> {
    const wanted = new Set(ports);
    for (const [port, server] of this.#servers) {
      if (!wanted.has(port)) {
        this.#servers.delete(port);
        server.close();
      }
    }
    const statuses: ForwarderStatus[] = [];
    for (const port of [...wanted].sort((a, b) => a - b)) {
      if (this.#servers.has(port)) {
        statuses.push({ port, state: 'listening' });
        continue;
      }
      statuses.push({ port, state: (await this.#open(port)) ? 'listening' : 'shared' });
    }
    return statuses;
  }

  /** Stops listening and cuts the connections still open. Idempotent. */
  async close(): Promise<void> {
    const servers = [...this.#servers.values()];
    this.#servers.clear();
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  /** Resolves true once listening, false when the address is in use. */
  #open(port: number): Promise<boolean> {
    const server = createServer({ allowHalfOpen: true }, (inbound) => this.#pipe(inbound, port));
    return new Promise<boolean>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE') {
          resolve(false);
          return;
        }
        reject(
          new BackendError(
            ErrorCodes.WIRING_FAILED,
            `Could not forward host port ${port} to containers on ${this.#address}:${port} (${error.code ?? error.message}). ` +
              'The forwarders listen on the gateway of the containers’ Docker network, which must be an address of this ' +
              'machine: an engine on another machine (DOCKER_HOST) or in a VM cannot reach them. Run such setups on the ' +
              'process backend, or publish the services on a Docker network and use the `network` option.',
            { cause: error, details: { port, address: this.#address } },
          ),
        );
      });
      server.listen({ port, host: this.#address, exclusive: true }, () => {
        server.removeAllListeners('error');
        // A listening server errs only for an accepted socket's trouble, which #pipe handles per
        // connection: nothing to report, and an unhandled 'error' would crash the runner.
        server.on('error', () => {});
        // The forwarders must not keep the runner's process alive; the backend's close() ends them.
        server.unref();
        this.#servers.set(port, server);
        resolve(true);
      });
    });
  }

  #pipe(inbound: Socket, port: number): void {
    const outbound = createConnection({ host: '127.0.0.1', port, allowHalfOpen: true });
    this.#sockets.add(inbound);
    this.#sockets.add(outbound);
    const fail = () => {
      inbound.destroy();
      outbound.destroy();
    };
    // Either side failing (the host service is down: ECONNREFUSED) ends both: the container sees a
    // reset. Orderly ends travel through pipe() (allowHalfOpen keeps each direction until its FIN).
    inbound.on('error', fail).on('close', () => this.#sockets.delete(inbound));
    outbound.on('error', fail).on('close', () => this.#sockets.delete(outbound));
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  }
}
