/*
 * The dashboard's series as a real Prometheus answered them: query_range results over one lab run,
 * recorded by test/e2e/lab-prometheus.test.ts (NEARBY_DASHBOARD_DATA=FILE) and read back by the
 * renderer in place of the made-up cluster. Keyed by each target's expression as the dashboard
 * writes it, so a panel whose query changed since the recording fails by name.
 */
import { readFileSync } from 'node:fs';
import type { Target } from './dashboard-types.js';
import type { RangeSeries } from './prometheus-api.js';
import { legendName, type Series } from './sample-series.js';

export interface Recording {
  readonly startS: number;
  readonly stepS: number;
  readonly points: number;
  /** The lab's name and Prometheus' version, for the caption. */
  readonly source: string;
  readonly queries: Readonly<Record<string, readonly RangeSeries[]>>;
}

/** Where a page's series and their times come from. */
export interface SeriesSource {
  times(): number[];
  series(target: Target): Series[];
  /** The time picker's text. */
  readonly range?: string;
}

export class NotRecordedError extends Error {
  constructor(readonly expr: string) {
    super(`query ${JSON.stringify(expr)} is not in the recording: record the lab run again`);
    this.name = 'NotRecordedError';
  }
}

export function readRecording(path: string): Recording {
  return JSON.parse(readFileSync(path, 'utf8')) as Recording;
}

export function recordedSource(recording: Recording): SeriesSource {
  const times = Array.from({ length: recording.points }, (_, i) => (recording.startS + i * recording.stepS) * 1000);
  const seconds = (recording.points - 1) * recording.stepS;
  return {
    times: () => times,
    range: seconds < 120 ? `Last ${seconds} s` : `Last ${Math.round(seconds / 60)} min`,
    series(target: Target): Series[] {
      const answer = recording.queries[target.expr];
      if (!answer) throw new NotRecordedError(target.expr);
      return answer.map((s) => {
        const byTime = new Map(s.values.map(([t, v]) => [Math.round((t - recording.startS) / recording.stepS), Number(v)]));
        const values = times.map((_, i) => {
          const v = byTime.get(i);
          return v === undefined || !Number.isFinite(v) ? null : v;
        });
        return { name: legendName(target.legendFormat, s.metric), values };
      });
    },
  };
}
