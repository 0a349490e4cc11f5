/*
 * Where running peers are written down, so a crashed benchmark's peers can be found and ended:
 * one directory per peer under <tmp>/nearby-peers/, named <owner pid>-<label>-<n>, holding the
 * peer's working files and record.json (the processes it started, by PID and start time). A peer
 * whose owner is dead is a leftover; one whose owner lives (maybe another test now) is not touched.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLivePid, isRunning, terminate, type ProcessRef } from '../../../lab/processes.js';

export const PEERS_DIR = join(tmpdir(), 'nearby-peers');

export interface PeerRecord {
  /** The benchmark or test process; its start time tells a reused PID from the owner. */
  readonly owner: ProcessRef;
  readonly netns: string;
  readonly processes: readonly ProcessRef[];
}

export interface PeerLeftover extends PeerRecord {
  readonly dir: string;
}

let sequence = 0;

/** A fresh directory for one peer of this process. */
export function newPeerDir(label: string): string {
  const dir = join(PEERS_DIR, `${process.pid}-${label}-${++sequence}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export function writePeerRecord(dir: string, record: PeerRecord): void {
  writeFileSync(join(dir, 'record.json'), JSON.stringify(record));
}

function readRecord(dir: string): PeerRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8')) as PeerRecord;
  } catch {
    return undefined;
  }
}

/** Peers whose owner process is gone; a directory without a readable record counts by its name. */
export function peerLeftovers(base: string = PEERS_DIR): PeerLeftover[] {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const owner = /^(\d+)-/.exec(name);
    if (!owner) return [];
    const dir = join(base, name);
    const record = readRecord(dir);
    if (record ? isRunning(record.owner) : isLivePid(Number(owner[1]))) return [];
    return [{ ...(record ?? { owner: { pid: Number(owner[1]), startTime: '' }, netns: '', processes: [] }), dir }];
  });
}

/** Ends the leftovers' processes (by PID and start time) and removes their directories. */
export async function cleanupPeerLeftovers(base: string = PEERS_DIR): Promise<PeerLeftover[]> {
  const found = peerLeftovers(base);
  for (const leftover of found) {
    const survivors = await terminate(leftover.processes, 1_000);
    if (survivors.length > 0)
      throw new Error(`leftover peer in ${leftover.dir}: pids ${survivors.map((r) => r.pid).join(', ')} survived SIGKILL`);
    rmSync(leftover.dir, { recursive: true, force: true });
  }
  return found;
}
