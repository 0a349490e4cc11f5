/** One line for people on a Service's passive-ejection settings (explain). */
import type { OutlierSettings } from '../contract/index.js';

const duration = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

export function describeOutlier(o: OutlierSettings | undefined): string {
  if (!o || o.consecutiveFailures === 0) return 'outlierDetection: no ejection (consecutive errors 0)';
  return (
    `outlierDetection: a TCP endpoint is ejected after ${o.consecutiveFailures} failed connects in a row, ` +
    `for ${duration(o.baseEjectionMs)} x times ejected, at most ${o.maxEjectionPercent}% of endpoints at once ` +
    `(decay every ${duration(o.intervalMs)})`
  );
}
