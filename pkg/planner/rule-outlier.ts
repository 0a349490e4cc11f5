/*
 * Which passive-ejection settings a Service gets (docs/outlier-detection.md): its
 * DestinationRule's outlierDetection, or else, for Services without Istio, the
 * nearby.io/outlier-detection annotation holding the same fields as JSON. Neither: no ejection.
 */
import type { OutlierSettings } from '../contract/index.js';
import { type DestinationRule, readOutlierDetection, type Service } from '../model/index.js';
import type { Warning } from './types.js';

export const OUTLIER_ANNOTATION = 'nearby.io/outlier-detection';

const active = (s: OutlierSettings): OutlierSettings | undefined => (s.consecutiveFailures > 0 ? s : undefined);

export function outlierFor(rule: DestinationRule | undefined, service: Service, warn: (w: Warning) => void): OutlierSettings | undefined {
  if (rule?.outlierDetection) return active(rule.outlierDetection);
  const text = service.annotations[OUTLIER_ANNOTATION]?.trim();
  if (!text) return undefined;
  const bad = (problem: string): void =>
    warn({
      code: 'bad-outlier-annotation',
      kind: 'Service',
      name: service.key,
      message: `annotation ${OUTLIER_ANNOTATION}: ${problem}; no ejection`,
    });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    bad(`${JSON.stringify(text)} is not JSON`);
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    bad('expected a JSON object');
    return undefined;
  }
  try {
    return active(readOutlierDetection(raw as Record<string, unknown>, OUTLIER_ANNOTATION, 'dr-bad-outlier'));
  } catch (err) {
    bad((err as Error).message);
    return undefined;
  }
}
