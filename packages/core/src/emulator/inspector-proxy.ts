/**
 * The address a debugger attaches to: a TCP proxy in front of the runtime's own inspector
 * (docs/debugging.md#where-the-inspector-listens). Node says nothing to other processes about a
 * debugger session, but every byte of one passes here, so the proxy knows when a debugger is
 * attached: while at least one WebSocket connection (a DevTools protocol session) is open. Plain
 * HTTP requests (`/json/list`, how VS Code and Chrome find the target) pass through without counting.
 * The runtime's inspector answers with addresses built from the request's Host header, so what it
 * reports names the proxy, and the proxy stays transparent.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** The longest request head read before the proxy decides what a connection is. */
const MAX_HEAD_BYTES = 16 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');
const WEBSOCKET_UPGRADE = /^upgrade:[ \t]*websocket[ \t]*$/im;

export class InspectorProxy {
  readonly #server: Server;
  readonly #onAttached: (attached: boolean) => void;
  readonly #sockets = new Set<Socket>();
  #target: number | undefined;
  #sessions = 0;

  /** `onAttached(true)` when the first debugger session opens, `(false)` when the last one ends. */
  constructor(onAttached: (attached: boolean) => void) {
    this.#onAttached = onAttached;
    this.#server = createServer((socket) => this.#accept(socket));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        const address = this.#server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  get attached(): boolean {
    return this.#sessions > 0;
  }

  /**
   * The port of the current runtime's inspector on 127.0.0.1; undefined while no runtime runs. A new
   * target ends the connections to the old one (that runtime is gone).
   */
  set target(port: number | undefined) {
    if (port === this.#target) return;
    this.#target = port;
    for (const socket of this.#sockets) socket.destroy();
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.#sockets.add(client);
    client.once('close', () => this.#sockets.delete(client));
    client.on('error', () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (head.indexOf(HEAD_END) < 0 && head.length < MAX_HEAD_BYTES) return;
      client.off('data', onData);
      client.pause();
      this.#forward(client, head);
    };
    client.on('data', onData);
  }

  #forward(client: Socket, head: Buffer): void {
    const target = this.#target;
    if (target === undefined) {
      const body = 'No runtime is running yet: the runtime (and its inspector) starts on the first invoke.\n';
      client.end(
        `HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    const upstream = connect(target, '127.0.0.1');
    this.#sockets.add(upstream);
    let counted = false;
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      if (counted) {
        counted = false;
        this.#sessions -= 1;
        if (this.#sessions === 0) this.#onAttached(false);
      }
    };
    // The inspector keeps a connection open after an HTTP answer, so a client may ask `/json/list`
    // and then upgrade on the same connection: every request the client sends is looked at, until
    // one upgrades (after that the bytes are WebSocket frames).
    const watchForUpgrade = (chunk: Buffer): void => {
      if (counted || client.destroyed || !WEBSOCKET_UPGRADE.test(chunk.toString('latin1'))) return;
      client.off('data', watchForUpgrade);
      counted = true;
      this.#sessions += 1;
      if (this.#sessions === 1) this.#onAttached(true);
    };
    upstream.once('close', () => {
      this.#sockets.delete(upstream);
      end();
    });
    client.once('close', end);
    upstream.on('error', end);
    upstream.once('connect', () => {
      watchForUpgrade(head);
      upstream.write(head);
      if (!counted) client.on('data', watchForUpgrade);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}
