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

/**
 * The cgroup attach type (enum bpf_attach_type) each program is loaded for, from its SEC() in the
 * object: with the link type, what proves a pinned link is one the loader made when the
 * program's own name cannot be read (that needs CAP_SYS_ADMIN, which the agent does not have).
 */
export const ATTACH_TYPES: Readonly<Record<(typeof PROGRAMS)[number], number>> = {
  nearby_connect4: 10,
  nearby_connect6: 11,
  nearby_sendmsg4: 14,
  nearby_sendmsg6: 15,
  nearby_recvmsg4: 19,
  nearby_recvmsg6: 20,
  nearby_getpeername4: 29,
  nearby_getpeername6: 30,
  nearby_sockops: 3,
};

/**
 * Maps the agent does not size: socket-local storage has no max_entries, and control is one row
 * (bpf/nearby.h), opened by the loader on its own.
 */
export const UNSIZED_MAPS = ['sock_meta', 'control'] as const;

/** Every map the object defines, by its name in the object (and in its pin path). */
export const MAP_NAMES: readonly string[] = [...Object.values(MAP_LAYOUTS).map((l) => l.name), ...UNSIZED_MAPS];

/**
 * Sub-directories of a pin root: maps/<map name>, links/<program name>, and maps-next/<map name>
 * where an upgrade to another layout builds its maps until it swaps them in (loader.ts).
 */
export const PIN_DIRS = { maps: 'maps', links: 'links', staging: 'maps-next' } as const;
