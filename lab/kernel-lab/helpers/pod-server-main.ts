/**
 * The pod server: one process per lab, in the lab's netns, hosting every pod's listeners.
 * A pod answers each TCP connection and each UDP datagram with its name and a newline.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { PodSpec } from '../types.js';
import { serveRpc } from './serve-rpc.js';

interface Listener {
  describe: string;
  close(): Promise<void>;
}

const running = new Map<string, Listener[]>();

function listenTcp(pod: string, address: string, port: number): Promise<Listener> {
  const connections = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => undefined); // a client that resets is not the pod's problem
    socket.end(`${pod}\n`);
  });
  const describe = `${pod} tcp ${address}:${port}`;
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`${describe}: ${err.message}`)));
    server.listen({ host: address, port, exclusive: true }, () => {
      server.on('error', (err) => process.stderr.write(`${describe}: ${err.message}\n`));
      resolve({
        describe,
        close: () =>
          new Promise<void>((done) => {
            // Drop open connections too, so "stopped" means nothing of the pod still talks.
            for (const socket of connections) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

function listenUdp(pod: string, address: string, port: number): Promise<Listener> {
  const socket = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4' });
  const describe = `${pod} udp ${address}:${port}`;
  socket.on('message', (_msg, rinfo) => {
    socket.send(`${pod}\n`, rinfo.port, rinfo.address, (err) => {
      if (err) process.stderr.write(`${describe}: reply to ${rinfo.address}: ${err.message}\n`);
    });
  });
  return new Promise((resolve, reject) => {
    socket.once('error', (err) => reject(new Error(`${describe}: ${err.message}`)));
    socket.bind({ address, port, exclusive: true }, () => {
      socket.on('error', (err) => process.stderr.write(`${describe}: ${err.message}\n`));
      resolve({ describe, close: () => new Promise<void>((done) => socket.close(() => done())) });
    });
  });
}

async function closeAll(listeners: Listener[]): Promise<void> {
  await Promise.all(listeners.map((l) => l.close()));
}

async function start(params: unknown): Promise<string[]> {
  const pod = params as PodSpec;
  if (running.has(pod.name)) throw new Error(`pod ${pod.name} is already running`);
  const opened: Listener[] = [];
  try {
    for (const address of pod.addresses) {
      for (const { port, proto } of pod.ports) {
        opened.push(await (proto === 'tcp' ? listenTcp : listenUdp)(pod.name, address, port));
      }
    }
  } catch (err) {
    // All or nothing: a half-started pod would make test failures hard to read.
    await closeAll(opened);
    throw err;
  }
  running.set(pod.name, opened);
  return opened.map((l) => l.describe);
}

async function stop(params: unknown): Promise<void> {
  const { name } = params as { name: string };
  const listeners = running.get(name);
  if (!listeners) return;
  running.delete(name);
  await closeAll(listeners);
}

serveRpc({ start, stop });
