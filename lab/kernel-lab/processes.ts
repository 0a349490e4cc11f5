/**
 * Liveness checks and killing by PID; the harness never kills by name. The primitives are the
 * lab's (pkg/lab), which only ever signal a PID whose start time still matches the one taken
 * when the PID was found, so a PID reused meanwhile by someone else's process is left alone.
 */
import { isLivePid, refOf, terminate, type ProcessRef } from '../primitives.js';

export { sleep, waitUntil } from '../primitives.js';

/** A zombie has exited and only waits to be reaped, so it counts as dead. */
export function isAlive(pid: number): boolean {
  return isLivePid(pid);
}

/**
 * SIGTERM, then SIGKILL after graceMs, then wait until every PID is gone. Throws naming the
 * PIDs that survive, since a live process would keep its cgroup or netns alive.
 */
export async function killAndWait(pids: number[], graceMs = 1000, timeoutMs = 5000): Promise<void> {
  const refs = pids.map((pid) => refOf(pid)).filter((ref): ref is ProcessRef => ref !== undefined);
  const survivors = await terminate(refs, graceMs, timeoutMs);
  if (survivors.length > 0) {
    throw new Error(`processes still alive after SIGKILL: ${survivors.map((ref) => ref.pid).join(', ')}`);
  }
}
