/*
 * A loopback TCP relay to the API server that a test can cut and heal: a network partition
 * between one client and the apiserver, with the apiserver itself (and everyone else's access to
 * it) untouched. While cut, open connections are reset and new ones are reset on accept, so the
 * client retries and fails for as long as the test wants, whatever its backoff; healing lets its
 * next retry through. TLS passes through untouched: the apiserver's certificate names 127.0.0.1,
 * which the relay listens on too.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class SeverableProxy {
  private severed = false;
  private readonly open = new Set<Socket>();
  /** Connections reset on accept while cut: proof that the client kept trying. */
  refusedWhileCut = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<SeverableProxy> {
    const server = createServer((client) => proxy.accept(client, target));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new SeverableProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    if (this.severed) {
      this.refusedWhileCut += 1;
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection(target);
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.open.add(socket);
      socket.on('error', () => other.destroy());
      socket.on('close', () => {
        this.open.delete(socket);
        other.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Resets every relayed connection (the client sees ECONNRESET) and every new one until heal(). */
  sever(): void {
    this.severed = true;
    for (const socket of this.open) socket.resetAndDestroy();
  }

  heal(): void {
    this.severed = false;
  }

  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
