/** Liveness checks and killing by PID; the harness never kills by name. */
import { readFileSync } from 'node:fs';

/** A zombie has exited and only waits to be reaped, so it counts as dead. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
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

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * SIGTERM, then SIGKILL after graceMs, then wait until every PID is gone. Throws naming the
 * PIDs that survive, since a live process would keep its cgroup or netns alive.
 */
export async function killAndWait(pids: number[], graceMs = 1000, timeoutMs = 5000): Promise<void> {
  const alive = () => pids.filter(isAlive);
  for (const pid of alive()) signal(pid, 'SIGTERM');
  if (await waitUntil(() => alive().length === 0, graceMs)) return;
  for (const pid of alive()) signal(pid, 'SIGKILL');
  if (await waitUntil(() => alive().length === 0, timeoutMs)) return;
  throw new Error(`processes still alive after SIGKILL: ${alive().join(', ')}`);
}
