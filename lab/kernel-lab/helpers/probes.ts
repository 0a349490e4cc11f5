/**
 * One connect attempt per call, each on a fresh socket: the datapath balances at connect()
 * (TCP, connected UDP) or sendmsg() (unconnected UDP) time, so reusing a socket would hide it.
 *
 * Every probe settles exactly once, within timeoutMs, whatever the kernel does.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { nowMs } from '../clock.js';
import type { ConnectResult, Endpoint, Proto, UdpMode } from '../types.js';

export interface ProbeTarget {
  address: string;
  port: number;
  proto: Proto;
  udp?: UdpMode;
}

const UDP_PAYLOAD = Buffer.from('who\n');

type Outcome = Omit<ConnectResult, 't0' | 't1'>;

/** What a probe learned about its socket before it settled; reported even on failure. */
interface Seen {
  peer?: Endpoint;
  local?: Endpoint;
}

export function probe(target: ProbeTarget, timeoutMs: number): Promise<ConnectResult> {
  if (target.proto === 'tcp') return probeTcp(target, timeoutMs);
  if ((target.udp ?? 'connected') === 'connected') return probeUdpConnected(target, timeoutMs);
  return probeUdpUnconnected(target, timeoutMs);
}

function failure(err: unknown): Outcome {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, errno: typeof code === 'string' ? code : 'EUNKNOWN', message };
}

function answered(data: Buffer): Outcome {
  return { ok: true, answer: data.toString('utf8').trim() };
}

/** Runs `start` with a settle-once callback and a timeout; `cleanup` always runs. */
function settleOnce(
  timeoutMs: number,
  seen: Seen,
  start: (finish: (outcome: Outcome) => void) => void,
  cleanup: () => void,
): Promise<ConnectResult> {
  const t0 = nowMs();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        cleanup();
      } catch {
        // A socket that failed to open can throw on close; the outcome is already known.
      }
      resolve({ ...seen, ...outcome, t0, t1: nowMs() });
    };
    const timer = setTimeout(() => finish({ ok: false, errno: 'ETIMEDOUT', message: `no answer within ${timeoutMs} ms` }), timeoutMs);
    try {
      start(finish);
    } catch (err) {
      finish(failure(err));
    }
  });
}

function probeTcp(target: ProbeTarget, timeoutMs: number): Promise<ConnectResult> {
  const seen: Seen = {};
  let socket: net.Socket | undefined;
  return settleOnce(
    timeoutMs,
    seen,
    (finish) => {
      const chunks: Buffer[] = [];
      // autoSelectFamily off: the address is a literal, and happy-eyeballs must not add tries.
      const s = net.createConnection({ host: target.address, port: target.port, autoSelectFamily: false });
      socket = s;
      s.on('connect', () => {
        // Read once, right away: Node caches getpeername, and this is what the app would see.
        seen.peer = { address: s.remoteAddress ?? '', port: s.remotePort ?? 0 };
        seen.local = { address: s.localAddress ?? '', port: s.localPort ?? 0 };
      });
      s.on('data', (chunk: Buffer) => chunks.push(chunk));
      // Wait for the pod's FIN so the pod side closes first and keeps the TIME_WAIT state.
      s.on('end', () => {
        const data = Buffer.concat(chunks);
        finish(data.length > 0 ? answered(data) : { ok: false, errno: 'ENODATA', message: 'peer closed without answering' });
      });
      s.on('error', (err) => finish(failure(err)));
    },
    () => socket?.destroy(),
  );
}

function udpSocket(address: string): dgram.Socket {
  return dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4' });
}

function probeUdpConnected(target: ProbeTarget, timeoutMs: number): Promise<ConnectResult> {
  const seen: Seen = {};
  let socket: dgram.Socket | undefined;
  return settleOnce(
    timeoutMs,
    seen,
    (finish) => {
      const s = udpSocket(target.address);
      socket = s;
      // An ICMP port unreachable comes back as ECONNREFUSED on the connected socket.
      s.on('error', (err) => finish(failure(err)));
      s.on('message', (msg: Buffer) => finish(answered(msg)));
      s.connect(target.port, target.address, (err?: Error) => {
        if (err) {
          finish(failure(err));
          return;
        }
        const remote = s.remoteAddress();
        const self = s.address();
        seen.peer = { address: remote.address, port: remote.port };
        seen.local = { address: self.address, port: self.port };
        s.send(UDP_PAYLOAD, (sendErr) => {
          if (sendErr) finish(failure(sendErr));
        });
      });
    },
    () => socket?.close(),
  );
}

function probeUdpUnconnected(target: ProbeTarget, timeoutMs: number): Promise<ConnectResult> {
  const seen: Seen = {};
  let socket: dgram.Socket | undefined;
  return settleOnce(
    timeoutMs,
    seen,
    (finish) => {
      const s = udpSocket(target.address);
      socket = s;
      s.on('error', (err) => finish(failure(err)));
      // No getpeername here: the reply's source is all an unconnected socket can see.
      s.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) =>
        finish({ ...answered(msg), peer: { address: rinfo.address, port: rinfo.port } }),
      );
      s.send(UDP_PAYLOAD, target.port, target.address, (err) => {
        if (err) {
          finish(failure(err));
          return;
        }
        const self = s.address();
        seen.local = { address: self.address, port: self.port };
      });
    },
    () => socket?.close(),
  );
}
