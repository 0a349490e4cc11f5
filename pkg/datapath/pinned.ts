/*
 * Reads a node's pinned maps without loading or attaching anything, for `nearbyctl maps`. It
 * never writes: an operator looking at a live node must not be able to change it by looking.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MAP_LAYOUTS } from './bpf-map.js';
import { claimedKeys } from './claims.js';
import { type Control, counterKey, counterValue, STRUCTS } from './codecs.js';
import type { TierCounters } from './counters.js';
import { type EjectedBackend, monotonicNs, readEjected } from './ejections.js';
import { failOpenStatus, type FailOpenStatus, readControl } from './fail-open.js';
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
  /** Fail-open as the control row says now; absent when the pins predate fail-open (no control map). */
  readonly failOpen?: FailOpenStatus;
  /** Key text (serviceKeyText) of every service nearby claims exclusively: never failed open. */
  readonly claimed?: ReadonlySet<string>;
}

const CONTROL = 'control'; // one row, not sized by the agent (object-names.ts, UNSIZED_MAPS)
const CONTROL_SIZE = STRUCTS.nearby_control.size;
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
    const controlPath = join(dir, CONTROL);
    const row = existsSync(controlPath) ? readControl(open({ name: CONTROL, valueSize: CONTROL_SIZE, perCpu: false })) : undefined;
    const claimsPath = join(dir, MAP_LAYOUTS.claims.name);
    const claimed = existsSync(claimsPath) ? claimedKeys(open(MAP_LAYOUTS.claims)) : undefined;
    return {
      pinRoot,
      services,
      backends: kernel.snapshot.backends.count,
      holes,
      counters: tierCounters,
      ejected,
      ...(row ? { failOpen: failOpenStatus(row, monotonicNs()) } : {}),
      ...(claimed ? { claimed } : {}),
    };
  } finally {
    for (const map of opened) libbpf.close(map.fd);
  }
}

/**
 * The node's control row alone (heartbeat, bound, layout), read-only: cheap enough to poll.
 * Undefined when the pins predate fail-open.
 */
export function readPinnedControl(pinRoot: string): Control | undefined {
  const path = join(pinRoot, 'maps', CONTROL);
  if (!existsSync(path)) return undefined;
  const map = openPinnedReadOnly(path, CONTROL, CONTROL_SIZE);
  try {
    return readControl(map);
  } finally {
    libbpf.close(map.fd);
  }
}
