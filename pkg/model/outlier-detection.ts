/*
 * outlierDetection as nearby applies it at L4 (docs/outlier-detection.md), from a DestinationRule
 * or from the nearby.io/outlier-detection annotation: the same fields, defaults and checks. A
 * value Istio's validation refuses is refused here by `code`, naming the field.
 */
import type { OutlierSettings } from '../contract/index.js';
import { BadField, type RawRecord } from './read.js';
import type { RejectionCode } from './types.js';

/** The fields nearby applies; the others are reported as not applied. */
export const OUTLIER_FIELDS_READ: ReadonlySet<string> = new Set([
  'consecutive5xxErrors',
  'consecutiveGatewayErrors',
  'interval',
  'baseEjectionTime',
  'maxEjectionPercent',
]);

/** Istio's defaults: consecutive5xxErrors 5, interval 10s, baseEjectionTime 30s, maxEjectionPercent 10. */
export const OUTLIER_DEFAULTS = { consecutive5xxErrors: 5, intervalMs: 10_000, baseEjectionMs: 30_000, maxEjectionPercent: 10 } as const;

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as Istio reads it ("100ms", "30s", "1m", "1h30m", "1.5s"), in milliseconds; at least
 * 1 ms and in whole milliseconds, as Istio's validation requires. undefined when it is none.
 */
export function parseDurationMs(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
  const whole = Math.round(ms);
  if (Math.abs(ms - whole) > 1e-6 || whole < 1 || !Number.isSafeInteger(whole)) return undefined;
  return whole;
}

function count(o: RawRecord, field: string, path: string, code: RejectionCode): number | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new BadField(code, `${path}.${field}`, `${JSON.stringify(v)} is not a whole number from 0 to 4294967295`);
  }
  return v;
}

function duration(o: RawRecord, field: string, path: string, code: RejectionCode, fallback: number): number {
  const v = o[field];
  if (v === undefined || v === null) return fallback;
  const ms = typeof v === 'string' ? parseDurationMs(v) : undefined;
  if (ms === undefined)
    throw new BadField(
      code,
      `${path}.${field}`,
      `${JSON.stringify(v)} is not a duration of at least 1ms in whole ms (e.g. 100ms, 30s, 1m)`,
    );
  return ms;
}

/**
 * The settings an outlierDetection object asks for. consecutive5xxErrors and
 * consecutiveGatewayErrors both count failed connects at L4; the smaller non-zero one applies,
 * and consecutiveFailures is 0 (never eject) when both are 0.
 */
export function readOutlierDetection(o: RawRecord, path: string, code: RejectionCode): OutlierSettings {
  const errors5xx = count(o, 'consecutive5xxErrors', path, code) ?? OUTLIER_DEFAULTS.consecutive5xxErrors;
  const gateway = count(o, 'consecutiveGatewayErrors', path, code) ?? 0;
  const thresholds = [errors5xx, gateway].filter((n) => n > 0);
  const percent = o['maxEjectionPercent'];
  if (
    percent !== undefined &&
    percent !== null &&
    (typeof percent !== 'number' || !Number.isInteger(percent) || percent < 0 || percent > 100)
  ) {
    throw new BadField(code, `${path}.maxEjectionPercent`, `${JSON.stringify(percent)} is not a whole number from 0 to 100`);
  }
  return {
    consecutiveFailures: thresholds.length ? Math.min(...thresholds) : 0,
    maxEjectionPercent: typeof percent === 'number' ? percent : OUTLIER_DEFAULTS.maxEjectionPercent,
    baseEjectionMs: duration(o, 'baseEjectionTime', path, code, OUTLIER_DEFAULTS.baseEjectionMs),
    intervalMs: duration(o, 'interval', path, code, OUTLIER_DEFAULTS.intervalMs),
  };
}
