/*
 * Processes by PID, made safe against PID reuse: the lab records a PID together with its start
 * time (field 22 of /proc/<pid>/stat, in clock ticks since boot) and only ever signals a PID
 * whose start time still matches. It never looks processes up by name.
 */
import { readFileSync } from 'node:fs';

export interface ProcessRef {
  readonly pid: number;
  /** /proc/<pid>/stat starttime, kept as text: it is only compared, never computed with. */
  readonly startTime: string;
}

interface ProcStat {
  readonly state: string;
  readonly startTime: string;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses; everything after the last ')' is fixed.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[19];
  return state && startTime ? { state, startTime } : undefined;
}

/** The ref of a live process, or undefined if it is gone. */
export function refOf(pid: number): ProcessRef | undefined {
  const stat = readStat(pid);
  return stat ? { pid, startTime: stat.startTime } : undefined;
}

/** A zombie has exited and only waits to be reaped, so it does not count as running. */
function isLiveState(state: string): boolean {
  return state !== 'Z' && state !== 'X';
}

/** Alive, not a zombie, and the same process that was recorded (not a reused PID). */
export function isRunning(ref: ProcessRef): boolean {
  const stat = readStat(ref.pid);
  if (stat === undefined) return false;
  return stat.startTime === ref.startTime && isLiveState(stat.state);
}

/** Alive and not a zombie, whichever process holds the PID now: for PIDs known by number only. */
export function isLivePid(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && isLiveState(stat.state);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitUntil(condition: () => boolean, timeoutMs: number, pollMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
}

function signal(ref: ProcessRef, sig: NodeJS.Signals): void {
  if (!isRunning(ref)) return;
  try {
    process.kill(ref.pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * SIGTERM (unless graceMs is 0), SIGKILL after graceMs, then waits until every process is gone.
 * Returns the refs that survived; the caller decides whether that is an error.
 */
export async function terminate(refs: readonly ProcessRef[], graceMs = 1000, killWaitMs = 5000): Promise<ProcessRef[]> {
  const alive = () => refs.filter(isRunning);
  if (graceMs > 0) {
    for (const ref of alive()) signal(ref, 'SIGTERM');
    if (await waitUntil(() => alive().length === 0, graceMs)) return [];
  }
  for (const ref of alive()) signal(ref, 'SIGKILL');
  await waitUntil(() => alive().length === 0, killWaitMs);
  return alive();
}

/**
 * For PIDs known by number only (found in a cgroup or a netns just now): terminate() them, and
 * throw naming the survivors, since a live process keeps its cgroup or netns alive.
 */
export async function terminatePids(pids: readonly number[], graceMs = 1000, killWaitMs = 5000): Promise<void> {
  const refs = pids.map((pid) => refOf(pid)).filter((ref): ref is ProcessRef => ref !== undefined);
  const survivors = await terminate(refs, graceMs, killWaitMs);
  if (survivors.length > 0) {
    throw new Error(`processes still alive after SIGKILL: ${survivors.map((ref) => ref.pid).join(', ')}`);
  }
}
