/*
 * Passive ejection settings as the datapath programs them (docs/outlier-detection.md): one row of
 * the outlier map per service, written before the service entry, deleted with the service.
 */
import type { BpfMap, DatapathMaps } from './bpf-map.js';
import { backendId, outlierValue } from './codecs.js';
import type { ServiceMirror } from './service-mirror.js';
import type { OutlierSpec, ProgrammedService } from './types.js';

const NS_PER_MS = 1_000_000n;

/** The kernel row for a service's settings. */
export function encodeOutlier(spec: OutlierSpec): Buffer {
  return outlierValue.encode({
    consecutive: spec.consecutiveFailures,
    maxPercent: spec.maxEjectionPercent,
    baseEjectionNs: BigInt(spec.baseEjectionMs) * NS_PER_MS,
    intervalNs: BigInt(spec.intervalMs) * NS_PER_MS,
  });
}

/** A row read back; undefined when it turns ejection off. */
export function decodeOutlier(buf: Buffer): OutlierSpec | undefined {
  const v = outlierValue.decode(buf);
  if (v.consecutive === 0) return undefined;
  return {
    consecutiveFailures: v.consecutive,
    maxEjectionPercent: v.maxPercent,
    baseEjectionMs: Number(v.baseEjectionNs / NS_PER_MS),
    intervalMs: Number(v.intervalNs / NS_PER_MS),
  };
}

/** Same settings; two absent ones are the same (no ejection). */
export function sameOutlier(a: OutlierSpec | undefined, b: OutlierSpec | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.consecutiveFailures === b.consecutiveFailures &&
    a.maxEjectionPercent === b.maxEjectionPercent &&
    a.baseEjectionMs === b.baseEjectionMs &&
    a.intervalMs === b.intervalMs
  );
}

/** The settings programmed for one service id, if any. */
function outlierOf(map: Pick<BpfMap, 'lookup'>, id: number): OutlierSpec | undefined {
  const row = map.lookup(backendId.encode(id));
  return row && decodeOutlier(row);
}

/** Services read from pins (nearbyctl, the lab) with their settings, as the writer would compare them. */
export function withOutliers(map: Pick<BpfMap, 'lookup'>, services: readonly ProgrammedService[]): ProgrammedService[] {
  return services.map((s) => {
    const outlier = outlierOf(map, s.id);
    return outlier ? { ...s, outlier } : s;
  });
}

/** Puts each read-back service's settings into its record (a restarted writer). */
export function readOutliers(maps: Pick<DatapathMaps, 'outlier'>, mirror: ServiceMirror): void {
  for (const ks of [...mirror.keys()]) {
    const s = mirror.get(ks)!;
    const outlier = outlierOf(maps.outlier, s.id);
    if (outlier) mirror.set(ks, { ...s, outlier });
  }
}
