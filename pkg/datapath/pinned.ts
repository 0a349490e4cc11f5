/*
 * Reads a node's pinned maps without loading or attaching anything, for `nearbyctl maps`. It
 * never writes: an operator looking at a live node must not be able to change it by looking.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BpfMap } from './bpf-map.js';
import { backendId, backendValue, counterKey, counterValue, slotKey, STRUCTS, svcKey, svcValue } from './codecs.js';
import { BpfCallError, DatapathError } from './errors.js';
import { libbpf, objGetReadOnly } from './libbpf.js';
import type { TierCounters } from './counters.js';
import type { ProgrammedBackend, ProgrammedService } from './types.js';

export interface PinnedState {
  readonly pinRoot: string;
  /** Ordered by service id. */
  readonly services: readonly ProgrammedService[];
  readonly backends: number;
  /** Slots a live count points at that are missing, or name a missing backend. */
  readonly holes: number;
  readonly counters: readonly TierCounters[];
}

const MAP_INFO_SIZE = 96; // struct bpf_map_info, of which only key/value sizes and max_entries are read

/** Opened with BPF_F_RDONLY, so even a bug here cannot write to a live node's maps. */
export function openPinnedReadOnly(path: string, name: string, valueSize: number): BpfMap {
  if (!existsSync(path)) throw new DatapathError(`no pinned map at ${path}: is the agent running on this node?`);
  const fd = objGetReadOnly(path);
  if (fd < 0) throw new BpfCallError('bpf_obj_get_opts', -fd, path);
  const info = Buffer.alloc(MAP_INFO_SIZE);
  const len = new Uint32Array([info.length]);
  const rc = libbpf.objGetInfoByFd(fd, info, len) as number;
  if (rc < 0) {
    libbpf.close(fd);
    throw new BpfCallError('bpf_obj_get_info_by_fd', -rc, path);
  }
  // struct bpf_map_info: type, id, key_size, value_size, max_entries (u32 each, in that order)
  return new BpfMap(name, fd, info.readUInt32LE(8), valueSize, info.readUInt32LE(16));
}

export function readPinnedState(pinRoot: string): PinnedState {
  const dir = join(pinRoot, 'maps');
  const cpus = libbpf.numPossibleCpus() as number;
  const opened: BpfMap[] = [];
  const open = (name: string, valueSize: number): BpfMap => {
    const map = openPinnedReadOnly(join(dir, name), name, valueSize);
    opened.push(map);
    return map;
  };
  try {
    const services = open('services', STRUCTS.nearby_svc_value.size);
    const slots = open('slots', 4);
    const backends = open('backends', STRUCTS.nearby_backend.size);
    const counters = open('counters', STRUCTS.nearby_counter_value.size * cpus);

    const byId = new Map<number, ProgrammedBackend>();
    for (const [k, v] of backends.entries()) {
      const id = backendId.decode(k);
      byId.set(id, { id, ...backendValue.decode(v) });
    }
    let holes = 0;
    const programmed: ProgrammedService[] = services.entries().map(([k, v]) => {
      const value = svcValue.decode(v);
      const tiers = value.counts.map((count, tier) =>
        Array.from({ length: count }, (_, index) => {
          const slot = slots.lookup(slotKey.encode({ svcId: value.id, tier, index }));
          const backend = slot ? byId.get(backendId.decode(slot)) : undefined;
          if (!backend) holes++;
          return backend;
        }).filter((b): b is ProgrammedBackend => b !== undefined),
      );
      return { key: svcKey.decode(k), id: value.id, mode: value.mode, weights: value.weights, tiers };
    });
    programmed.sort((a, b) => a.id - b.id);
    const tierCounters = counters
      .entries()
      .map(([k, v]) => ({ ...counterKey.decode(k), ...counterValue.decodePerCpu(v, cpus) }))
      .sort((a, b) => a.svcId - b.svcId || a.tier - b.tier);
    return { pinRoot, services: programmed, backends: byId.size, holes, counters: tierCounters };
  } finally {
    for (const map of opened) libbpf.close(map.fd);
  }
}
