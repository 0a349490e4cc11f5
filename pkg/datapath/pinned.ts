/*
 * Reads a node's pinned maps without loading or attaching anything, for `nearbyctl maps`. It
 * never writes: an operator looking at a live node must not be able to change it by looking.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MAP_LAYOUTS } from './bpf-map.js';
import { counterKey, counterValue } from './codecs.js';
import type { TierCounters } from './counters.js';
import { type EjectedBackend, readEjected } from './ejections.js';
import { BpfCallError, DatapathError } from './errors.js';
import { KernelBpfMap } from './kernel-map.js';
import { KernelState, readSnapshot, resolveServices } from './kernel-state.js';
import { libbpf, objGetReadOnly } from './libbpf.js';
import { withOutliers } from './outlier.js';
import type { ProgrammedService } from './types.js';

export interface PinnedState {
  readonly pinRoot: string;
  /** Ordered by service id. */
  readonly services: readonly ProgrammedService[];
  readonly backends: number;
  /** Slots a live count points at that are missing, or name a missing backend. */
  readonly holes: number;
  readonly counters: readonly TierCounters[];
  /** Backends ejected now by outlier detection, by backend id (empty before the map existed). */
  readonly ejected: ReadonlyMap<number, EjectedBackend>;
}

const MAP_INFO_SIZE = 96; // struct bpf_map_info, of which only key/value sizes and max_entries are read

/** Opened with BPF_F_RDONLY, so even a bug here cannot write to a live node's maps. */
export function openPinnedReadOnly(path: string, name: string, valueSize: number): KernelBpfMap {
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
  return new KernelBpfMap(name, fd, info.readUInt32LE(8), valueSize, info.readUInt32LE(16));
}

export function readPinnedState(pinRoot: string): PinnedState {
  const dir = join(pinRoot, 'maps');
  const cpus = libbpf.numPossibleCpus() as number;
  const opened: KernelBpfMap[] = [];
  const open = (layout: { readonly name: string; readonly valueSize: number; readonly perCpu: boolean }): KernelBpfMap => {
    const map = openPinnedReadOnly(join(dir, layout.name), layout.name, layout.perCpu ? layout.valueSize * cpus : layout.valueSize);
    opened.push(map);
    return map;
  };
  try {
    const kernel = new KernelState(
      readSnapshot({ services: open(MAP_LAYOUTS.services), slots: open(MAP_LAYOUTS.slots), backends: open(MAP_LAYOUTS.backends) }),
    );
    const counters = open(MAP_LAYOUTS.counters);
    const resolved = resolveServices(kernel);
    // A node whose agent predates outlier detection has no outlier pin: no service has settings.
    const outlierPath = join(dir, MAP_LAYOUTS.outlier.name);
    const services = existsSync(outlierPath) ? withOutliers(open(MAP_LAYOUTS.outlier), resolved.services) : resolved.services;
    const holes = resolved.holes;
    const tierCounters = counters
      .entries()
      .map(([k, v]) => ({ ...counterKey.decode(k), ...counterValue.decodePerCpu(v, cpus) }))
      .sort((a, b) => a.svcId - b.svcId || a.tier - b.tier);
    // A node whose agent predates outlier detection has no backend_health pin: nothing is ejected.
    const healthPath = join(dir, MAP_LAYOUTS.backendHealth.name);
    const ejected = existsSync(healthPath) ? readEjected(open(MAP_LAYOUTS.backendHealth)) : new Map<number, EjectedBackend>();
    return { pinRoot, services, backends: kernel.snapshot.backends.count, holes, counters: tierCounters, ejected };
  } finally {
    for (const map of opened) libbpf.close(map.fd);
  }
}
