/**
 * The client process: runs inside one node's cgroup and the lab's netns (the harness put it
 * there before this file ran), and makes connects on request.
 */
import { nowMs } from '../clock.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../limits.js';
import type { ConnectOptions, ConnectResult, LoopOptions } from '../types.js';
import { probe } from './probes.js';
import { serveRpc } from './serve-rpc.js';

interface RunningLoop {
  results: ConnectResult[];
  stopRequested: boolean;
  finished: Promise<void>;
}

const loops = new Map<number, RunningLoop>();
let nextLoopId = 1;

async function connect(params: unknown): Promise<ConnectResult[]> {
  const o = params as ConnectOptions;
  const results: ConnectResult[] = [];
  for (let i = 0; i < o.count; i++) {
    results.push(await probe(o, o.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS));
  }
  return results;
}

async function runLoop(o: LoopOptions, loop: RunningLoop): Promise<void> {
  const deadline = nowMs() + o.durationMs;
  const timeoutMs = o.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  while (!loop.stopRequested && loop.results.length < o.maxCount && nowMs() < deadline) {
    // Each probe awaits I/O, so a stop request is read between two connects. The last probe may
    // run past the deadline by up to timeoutMs; cutting it short would fake a timeout.
    loop.results.push(await probe(o, timeoutMs));
  }
}

function loopStart(params: unknown): Promise<number> {
  const loopId = nextLoopId++;
  const loop: RunningLoop = { results: [], stopRequested: false, finished: Promise.resolve() };
  loop.finished = runLoop(params as LoopOptions, loop);
  loops.set(loopId, loop);
  return Promise.resolve(loopId);
}

async function loopResults(params: unknown, stop: boolean): Promise<ConnectResult[]> {
  const { loopId } = params as { loopId: number };
  const loop = loops.get(loopId);
  if (!loop) throw new Error(`no loop ${loopId} (already collected?)`);
  if (stop) loop.stopRequested = true;
  await loop.finished;
  loops.delete(loopId);
  return loop.results;
}

serveRpc({
  connect,
  loopStart,
  loopStop: (params) => loopResults(params, true),
  loopWait: (params) => loopResults(params, false),
});
