/** The test-side handle of a client process (helpers/client-main.ts). */
import type { HelperProcess } from './helper-process.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  MAX_CONNECT_COUNT,
  MAX_CONNECT_TIMEOUT_MS,
  MAX_LOOP_COUNT,
  MAX_LOOP_DURATION_MS,
  RPC_SLACK_MS,
} from './limits.js';
import { isIP } from 'node:net';
import type { ConnectOptions, ConnectResult, LoopOptions } from './types.js';

export interface LoopHandle {
  /** Stops the loop after the connect in flight and resolves with every result so far. */
  stop(): Promise<ConnectResult[]>;
  /** Waits for the loop to end by itself (durationMs or maxCount) and resolves with its results. */
  finished(): Promise<ConnectResult[]>;
}

export interface Client {
  /** The client process; it is in the node's cgroup and the lab's netns. */
  readonly pid: number;
  /** `count` sequential connects, each on a fresh socket. */
  connect(o: ConnectOptions): Promise<ConnectResult[]>;
  /** Back-to-back connects in the background until durationMs or maxCount. */
  loop(o: LoopOptions): Promise<LoopHandle>;
  close(): Promise<void>;
}

// Checked as plain values: a caller in plain JavaScript, or behind a cast, can pass anything.
function checkTarget(o: { address: string; port: number; proto: string; udp?: string; timeoutMs?: number }): void {
  if (isIP(o.address) === 0) throw new Error(`not an IP address: ${JSON.stringify(o.address)}`);
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new Error(`bad port ${o.port}`);
  if (o.proto !== 'tcp' && o.proto !== 'udp') throw new Error(`bad proto ${o.proto}`);
  if (o.udp !== undefined && o.udp !== 'connected' && o.udp !== 'unconnected') throw new Error(`bad udp mode ${o.udp}`);
  checkBound('timeoutMs', o.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, MAX_CONNECT_TIMEOUT_MS);
}

function checkBound(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${what} must be an integer in 1..${max}, got ${value}`);
  }
}

export class ClientProcess implements Client {
  constructor(private readonly helper: HelperProcess) {}

  get pid(): number {
    return this.helper.pid;
  }

  async connect(o: ConnectOptions): Promise<ConnectResult[]> {
    checkTarget(o);
    checkBound('count', o.count, MAX_CONNECT_COUNT);
    const timeoutMs = o.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return this.helper.call<ConnectResult[]>('connect', o, o.count * (timeoutMs + 100) + RPC_SLACK_MS);
  }

  async loop(o: LoopOptions): Promise<LoopHandle> {
    checkTarget(o);
    checkBound('maxCount', o.maxCount, MAX_LOOP_COUNT);
    checkBound('durationMs', o.durationMs, MAX_LOOP_DURATION_MS);
    const loopId = await this.helper.call<number>('loopStart', o, RPC_SLACK_MS);
    // The loop itself is bounded by durationMs plus one connect's timeout.
    const bound = o.durationMs + (o.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS) + RPC_SLACK_MS;
    let collected: Promise<ConnectResult[]> | undefined;
    const collect = (method: 'loopStop' | 'loopWait') => (collected ??= this.helper.call<ConnectResult[]>(method, { loopId }, bound));
    return { stop: () => collect('loopStop'), finished: () => collect('loopWait') };
  }

  close(): Promise<void> {
    return this.helper.stop();
  }
}
