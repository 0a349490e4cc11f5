/*
 * The maps one side of the writer benchmark writes: services, slots and backends, created and
 * pinned by the C program (so both sides get the very same map types, flags and sizes) and
 * opened here for the TypeScript writer. The maps a bulk load of new services never touches
 * (counters, outlier, ...) are in memory: the writer reads them once when it opens, never after.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { type DatapathMaps, keyAt, MAP_LAYOUTS, memoryMaps, valueAt } from '../../../pkg/datapath/index.js';
import { KernelBpfMap } from '../../../pkg/datapath/kernel-map.js';
import { libbpf } from '../../../pkg/datapath/libbpf.js';
import { benchProgram } from '../c-programs.js';

const KERNEL_ROLES = ['services', 'slots', 'backends'] as const;

export interface BenchMaps {
  readonly maps: DatapathMaps;
  close(): void;
}

function openPinned(dir: string, role: (typeof KERNEL_ROLES)[number]): KernelBpfMap {
  const layout = MAP_LAYOUTS[role];
  const path = join(dir, layout.name);
  const fd = libbpf.objGet(path) as number;
  if (fd < 0) throw new Error(`bpf_obj_get ${path} failed (errno ${-fd})`);
  // The capacity is only used to size reads; the C program chose the real max_entries.
  return new KernelBpfMap(layout.name, fd, layout.keySize, layout.valueSize, 300_000);
}

/** Creates the three maps under `dir` (through the C program) and opens them. */
export function createBenchMaps(dir: string): BenchMaps {
  execFileSync(benchProgram('map-writer'), ['create', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  return openBenchMaps(dir);
}

export function openBenchMaps(dir: string): BenchMaps {
  const kernel = KERNEL_ROLES.map((role) => openPinned(dir, role));
  const [services, slots, backends] = kernel as [KernelBpfMap, KernelBpfMap, KernelBpfMap];
  return {
    maps: { ...memoryMaps(), services, slots, backends },
    close: () => {
      for (const m of kernel) libbpf.close(m.fd);
    },
  };
}

/** Every entry of the three maps as sorted hex rows, to compare two sides' maps byte for byte. */
export function contentsOf(maps: DatapathMaps): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const role of KERNEL_ROLES) {
    const dump = maps[role].dump();
    const rows: string[] = [];
    for (let i = 0; i < dump.count; i++) rows.push(`${keyAt(dump, i).toString('hex')}=${valueAt(dump, i).toString('hex')}`);
    out[role] = rows.sort();
  }
  return out;
}
