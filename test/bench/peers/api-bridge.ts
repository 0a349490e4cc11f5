/*
 * How a peer in a namespace with no route out reaches the lab's API server on 127.0.0.1 of the
 * initial namespace: a process in the namespace listens on the same 127.0.0.1:<port> there (so the
 * server's certificate, issued for 127.0.0.1, still matches) and hands each connection over a
 * Unix socket to this process, which dials the API server. Only the API server is reachable.
 */
import { rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { spawnInNetns, tsMain, type NetnsProcess } from './netns-process.js';

export interface ApiBridge {
  /** The URL a client inside the namespace dials: the API server's own. */
  readonly server: string;
  readonly inner: NetnsProcess;
  close(): Promise<void>;
}

export async function openApiBridge(netns: string, apiServer: string, dir: string): Promise<ApiBridge> {
  const target = new URL(apiServer);
  const port = Number(target.port);
  const socketPath = join(dir, 'api.sock');
  rmSync(socketPath, { force: true });
  const outer: Server = createServer((inner) => {
    const upstream = connect(port, target.hostname);
    inner.pipe(upstream).pipe(inner);
    const close = (): void => {
      inner.destroy();
      upstream.destroy();
    };
    inner.on('error', close);
    upstream.on('error', close);
    inner.on('close', close);
    upstream.on('close', close);
  });
  await new Promise<void>((resolve, reject) => {
    outer.once('error', reject);
    outer.listen(socketPath, resolve);
  });
  const closeOuter = (): Promise<void> =>
    new Promise<void>((resolve) => {
      outer.close(() => resolve());
      // Open connections would hold close() forever; the peer is gone by now.
      outer.unref();
      setTimeout(resolve, 500);
    }).then(() => rmSync(socketPath, { force: true }));
  let inner: NetnsProcess;
  try {
    inner = await spawnInNetns({
      netns,
      argv: tsMain('api-bridge-main.ts', [target.hostname, String(port), socketPath]),
      logFile: join(dir, 'api-bridge.log'),
      readyLine: true,
    });
  } catch (error) {
    await closeOuter();
    throw error;
  }
  return {
    server: apiServer,
    inner,
    close: async () => {
      await inner.stop();
      await closeOuter();
    },
  };
}
