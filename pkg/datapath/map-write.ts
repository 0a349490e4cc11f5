/* One map write that names the service it was for when the map is full. */
import type { BpfMap } from './bpf-map.js';
import { BpfCallError, MapFullError } from './errors.js';

const E2BIG = 7;

/** BpfMap.update(), with E2BIG (no room) turned into a MapFullError naming `label`. */
export function writeEntry(map: BpfMap, key: Buffer, value: Buffer, label: string, flags?: number): void {
  try {
    map.update(key, value, flags);
  } catch (err) {
    if (err instanceof BpfCallError && err.errno === E2BIG) throw new MapFullError(map.name, label, map.capacity);
    throw err;
  }
}
