/*
 * Where a bulk load's time goes, without a profiler: the time the TypeScript writer spends inside
 * its batch calls (koffi into libbpf into the kernel, the part C pays too) is timed around each
 * call of the three kernel maps, so the rest of the bulk load is the writer's own JavaScript.
 * Three calls a load, so the timing costs nothing measurable.
 */
import type { BpfMap, DatapathMaps } from '../../../pkg/datapath/index.js';

export interface BatchTiming {
  /** Nanoseconds spent inside updateBatch calls. */
  readonly ns: number;
  readonly calls: number;
}

/** Wraps updateBatch of the services, slots and backends maps in place; read the totals after the load. */
export function timeBatches(maps: DatapathMaps): () => BatchTiming {
  let ns = 0;
  let calls = 0;
  const wrap = (map: BpfMap): void => {
    const call = map.updateBatch.bind(map);
    map.updateBatch = (keys, values, n) => {
      const t0 = process.hrtime.bigint();
      try {
        return call(keys, values, n);
      } finally {
        ns += Number(process.hrtime.bigint() - t0);
        calls++;
      }
    };
  };
  for (const map of [maps.services, maps.slots, maps.backends]) wrap(map);
  return () => ({ ns, calls });
}
