/* A Grafana "timeseries" panel body as SVG: axes, grid, lines or bars (stacked if asked), thresholds, legend. */
import type { Panel } from './dashboard-types.js';
import type { Series } from './sample-series.js';
import { color, escapeXml, legend, legendHeight, PALETTE, text, textWidth, THEME } from './svg-common.js';
import { axisTicks, formatValue, logTicks, niceMax } from './units.js';

const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
const TICK_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120].map((minutes) => minutes * 60_000);

interface Drawn {
  readonly series: Series;
  readonly color: string;
  /** Top of the series (stacked if asked). */
  readonly top: ReadonlyArray<number | null>;
  /** Where its fill starts: the series below it, or the axis. */
  readonly base: ReadonlyArray<number | null>;
}

function stackSeries(series: readonly Series[], stacked: boolean): Drawn[] {
  const running: number[] = [];
  return series.map((s, k) => {
    const base = s.values.map((_, i) => (stacked ? (running[i] ?? 0) : null));
    const top = s.values.map((v, i) => {
      if (v === null) return null;
      if (!stacked) return v;
      running[i] = (running[i] ?? 0) + v;
      return running[i];
    });
    return { series: s, color: PALETTE[k % PALETTE.length]!, top, base };
  });
}

export function timeseriesSvg(panel: Panel, series: readonly Series[], times: readonly number[], width: number, height: number): string {
  const defaults = panel.fieldConfig?.defaults ?? {};
  const custom = defaults.custom ?? {};
  const unit = defaults.unit;
  const drawn = stackSeries(series, custom.stacking?.mode === 'normal');
  const items = drawn.map((d) => ({ name: d.series.name, color: d.color }));
  const legendH = legendHeight(items, width);

  const values = drawn.flatMap((d) => d.top.filter((v): v is number => v !== null));
  const dataMax = values.length ? Math.max(...values) : 1;
  const dataMin = values.length ? Math.min(...values) : 0;
  const log = custom.scaleDistribution?.type === 'log';
  const positive = values.filter((v) => v > 0);
  const yMin = log ? 10 ** Math.floor(Math.log10(Math.min(...positive, dataMax || 1))) : (defaults.min ?? Math.min(0, dataMin));
  const yMax = log ? 10 ** Math.ceil(Math.log10(Math.max(...positive, yMin * 10))) : (defaults.max ?? niceMax(dataMax));
  // On a log axis zero has no place: it is drawn at the bottom edge.
  const scale = (v: number): number => (log ? Math.log10(Math.max(v, yMin)) : v);

  const top = 10;
  const bottom = height - legendH - 24;
  const ticks = log ? logTicks(yMin, yMax) : axisTicks(yMin, yMax, Math.max(2, Math.floor((bottom - top) / 38)), unit);
  const labels = ticks.map((t) => formatValue(t, unit));
  const left = 12 + Math.max(...labels.map((l) => textWidth(l, 11)));
  const right = width - 14;
  const sx = (i: number): number => left + ((times[i]! - times[0]!) / (times.at(-1)! - times[0]!)) * (right - left);
  const sy = (v: number): number => bottom - ((scale(v) - scale(yMin)) / (scale(yMax) - scale(yMin))) * (bottom - top);
  const clip = `clip-${panel.id}`;
  const out: string[] = [
    `<defs><clipPath id="${clip}"><rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}"/></clipPath></defs>`,
  ];

  // Grid and axes.
  ticks.forEach((t, k) => {
    out.push(`<line x1="${left}" x2="${right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="${THEME.grid}"/>`);
    out.push(text(left - 6, sy(t) + 4, labels[k]!, { size: 11, anchor: 'end' }));
  });
  // The shortest of Grafana-like steps that leaves 70 px between labels: hours over the sample's
  // six hours, minutes over a recorded lab run.
  const spanMs = times.at(-1)! - times[0]!;
  const stepMs = TICK_STEPS_MS.find((step) => (right - left) / (spanMs / step) >= 70) ?? TICK_STEPS_MS.at(-1)!;
  for (let t = Math.ceil(times[0]! / stepMs) * stepMs; t <= times.at(-1)!; t += stepMs) {
    const x = left + ((t - times[0]!) / (times.at(-1)! - times[0]!)) * (right - left);
    out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${top}" y2="${bottom}" stroke="${THEME.grid}"/>`);
    out.push(text(x, bottom + 16, hhmm(t), { size: 11, anchor: 'middle' }));
  }

  // Thresholds drawn as Grafana's line+area: a dashed line at each step and a faint band above it.
  if (custom.thresholdsStyle?.mode && custom.thresholdsStyle.mode !== 'off') {
    const steps = defaults.thresholds?.steps ?? [];
    steps.forEach((step, k) => {
      if (step.value === null || step.color === 'transparent' || step.value < yMin || step.value > yMax) return;
      const upper = steps[k + 1]?.value ?? yMax;
      const y0 = sy(step.value);
      const y1 = sy(Math.min(upper, yMax));
      if (custom.thresholdsStyle!.mode.includes('area')) {
        out.push(
          `<rect x="${left}" y="${y1.toFixed(1)}" width="${right - left}" height="${(y0 - y1).toFixed(1)}" fill="${color(step.color)}" opacity="0.09"/>`,
        );
      }
      out.push(
        `<line x1="${left}" x2="${right}" y1="${y0.toFixed(1)}" y2="${y0.toFixed(1)}" stroke="${color(step.color)}" stroke-dasharray="6 4" opacity="0.8"/>`,
      );
    });
  }

  // Series in order, later ones on top, as Grafana draws them.
  const fill = (custom.fillOpacity ?? 10) / 100;
  const body: string[] = [];
  const barWidth = Math.max(1.2, ((right - left) / times.length) * 0.9);
  for (const d of drawn) {
    if (custom.drawStyle === 'bars') {
      d.top.forEach((v, i) => {
        const b = d.base[i] ?? yMin;
        if (v === null || v === b) return;
        body.push(
          `<rect x="${(sx(i) - barWidth / 2).toFixed(1)}" y="${sy(v).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(sy(b) - sy(v)).toFixed(1)}" fill="${d.color}" opacity="${Math.max(fill, 0.5)}"/>`,
        );
      });
      continue;
    }
    // One path per run of non-null points.
    let run: number[] = [];
    const flush = (): void => {
      if (run.length === 0) return;
      const line = run.map((i, k) => `${k === 0 ? 'M' : 'L'}${sx(i).toFixed(1)},${sy(d.top[i]!).toFixed(1)}`).join('');
      if (fill > 0) {
        const back = [...run]
          .reverse()
          .map((i) => `L${sx(i).toFixed(1)},${sy(d.base[i] ?? Math.max(yMin, 0)).toFixed(1)}`)
          .join('');
        body.push(`<path d="${line}${back}Z" fill="${d.color}" opacity="${fill}"/>`);
      }
      body.push(`<path d="${line}" fill="none" stroke="${d.color}" stroke-width="1.4" stroke-linejoin="round"/>`);
      run = [];
    };
    d.top.forEach((v, i) => (v === null ? flush() : run.push(i)));
    flush();
  }
  out.push(`<g clip-path="url(#${clip})">${body.join('')}</g>`);
  out.push(legend(items, width, height - legendH).svg);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${escapeXml(THEME.font)}">${out.join('')}</svg>`;
}
