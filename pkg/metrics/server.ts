/*
 * /metrics, /healthz and /readyz on one small node:http server. Liveness only says the process
 * answers; readiness is decided by the caller (first full sync and program), and its reason is
 * in the 503 body so `kubectl describe` and curl show why.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { parseListen } from './listen.js';

export interface Readiness {
  readonly ready: boolean;
  readonly reason: string;
}

export interface HealthServerOptions {
  /** e.g. ":9790" */
  readonly listen: string;
  readonly registry: Registry;
  readonly readiness: () => Readiness;
  readonly logger?: Logger;
}

export interface HealthServer {
  readonly server: Server;
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const { host, port } = parseListen(options.listen);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const text = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(body.endsWith('\n') ? body : `${body}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      text(405, 'method not allowed');
      return;
    }
    switch (path) {
      case '/healthz':
        text(200, 'ok');
        return;
      case '/readyz': {
        const { ready, reason } = options.readiness();
        text(ready ? 200 : 503, ready ? `ready: ${reason}` : `not ready: ${reason}`);
        return;
      }
      case '/metrics':
        options.registry
          .metrics()
          .then((body) => {
            res.writeHead(200, { 'content-type': options.registry.contentType });
            res.end(body);
          })
          .catch((error: unknown) => {
            options.logger?.error({ err: error }, 'collecting metrics failed');
            text(500, 'collecting metrics failed');
          });
        return;
      default:
        text(404, 'not found: try /metrics, /healthz or /readyz');
        return;
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  options.logger?.info({ listen: options.listen, port: bound }, 'serving /metrics, /healthz and /readyz');
  return {
    server,
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
