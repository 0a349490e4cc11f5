/*
 * The names the BPF object gives its programs and maps: what the loader pins, and what uninstall
 * recognises as nearby's own. One list, so a program added to the object is also removed by it.
 */
import { MAP_LAYOUTS } from './bpf-map.js';

export const PROGRAMS = [
  'nearby_connect4',
  'nearby_connect6',
  'nearby_sendmsg4',
  'nearby_sendmsg6',
  'nearby_recvmsg4',
  'nearby_recvmsg6',
  'nearby_getpeername4',
  'nearby_getpeername6',
  'nearby_sockops',
] as const;

/** Maps the agent does not size (socket-local storage has no max_entries). */
export const UNSIZED_MAPS = ['sock_meta'] as const;

/** Every map the object defines, by its name in the object (and in its pin path). */
export const MAP_NAMES: readonly string[] = [...Object.values(MAP_LAYOUTS).map((l) => l.name), ...UNSIZED_MAPS];

/** Sub-directories of a pin root: maps/<map name>, links/<program name>. */
export const PIN_DIRS = { maps: 'maps', links: 'links' } as const;
