/** Reads the per-(service, tier) connect counters that the BPF programs keep per CPU. */
import type { BpfMap } from './bpf-map.js';
import { counterKey, counterValue, type CounterValue } from './codecs.js';
import { libbpf } from './libbpf.js';
import { keyAt, valueAt } from './map-dump.js';

export interface TierCounters extends CounterValue {
  readonly svcId: number;
  readonly tier: number;
}

export function readCounters(counters: BpfMap, cpus = libbpf.numPossibleCpus() as number): TierCounters[] {
  const dump = counters.dump();
  return Array.from({ length: dump.count }, (_, i) => ({
    ...counterKey.decode(keyAt(dump, i)),
    ...counterValue.decodePerCpu(valueAt(dump, i), cpus),
  }));
}
