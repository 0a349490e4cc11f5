/** Reads the per-(service, tier) connect counters that the BPF programs keep per CPU. */
import { counterKey, counterValue, type CounterValue } from './codecs.js';
import type { DatapathMaps } from './loader.js';
import { libbpf } from './libbpf.js';

export interface TierCounters extends CounterValue {
  readonly svcId: number;
  readonly tier: number;
}

export function readCounters(maps: DatapathMaps): TierCounters[] {
  const cpus = libbpf.numPossibleCpus() as number;
  return maps.counters.entries().map(([k, v]) => ({ ...counterKey.decode(k), ...counterValue.decodePerCpu(v, cpus) }));
}
