/**
 * Wall-clock milliseconds with sub-millisecond precision.
 *
 * Connect results are stamped in the client process while tests note, in their own process,
 * when they changed a map. performance.timeOrigin is each process's wall-clock start, so
 * timeOrigin + now() lands on one shared timeline, unlike performance.now() alone, and is finer
 * than Date.now().
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
