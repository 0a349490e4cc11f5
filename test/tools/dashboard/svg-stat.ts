/* Grafana "stat" and "bargauge" panel bodies as SVG: the last value, coloured by the thresholds. */
import type { Panel } from './dashboard-types.js';
import type { Series } from './sample-series.js';
import { escapeXml, text, textWidth, thresholdColor, THEME } from './svg-common.js';
import { formatValue } from './units.js';

const last = (s: Series | undefined): number | null => [...(s?.values ?? [])].reverse().find((v) => v !== null) ?? null;
const svg = (width: number, height: number, body: string): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${escapeXml(THEME.font)}">${body}</svg>`;

/** The big number, with the series behind it as a sparkline area (graphMode: area). */
export function statSvg(panel: Panel, series: readonly Series[], width: number, height: number): string {
  const defaults = panel.fieldConfig?.defaults ?? {};
  const s = series[0];
  const value = last(s);
  const fill = thresholdColor(defaults.thresholds?.steps, value);
  const label = formatValue(value, defaults.unit, defaults.decimals);
  const out: string[] = [];
  const points = (s?.values ?? []).map((v, i) => [i, v] as const).filter((p): p is readonly [number, number] => p[1] !== null);
  if (points.length > 1 && panel.options?.['graphMode'] !== 'none') {
    const lo = Math.min(...points.map((p) => p[1]));
    const hi = Math.max(...points.map((p) => p[1]));
    const span = hi - lo || 1;
    const top = height * 0.58;
    const x = (i: number): number => (i / (points.length - 1)) * width;
    const y = (v: number): number => height - 2 - ((v - lo) / span) * (height - 2 - top) * (hi === lo ? 0.5 : 1);
    const line = points.map(([i, v], k) => `${k === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join('');
    out.push(`<path d="${line}L${width},${height}L0,${height}Z" fill="${fill}" opacity="0.18"/>`);
    out.push(`<path d="${line}" fill="none" stroke="${fill}" stroke-width="1.2" opacity="0.9"/>`);
  }
  const size = Math.min(height * 0.36, (width * 0.8) / Math.max(1, label.length * 0.58));
  out.push(text(width / 2, height * 0.3 + size * 0.36, label, { size: Math.round(size), fill, anchor: 'middle', weight: 500 }));
  return svg(width, height, out.join(''));
}

/** One horizontal bar per series: name on the left, a gradient bar, the value in its colour. */
export function bargaugeSvg(panel: Panel, series: readonly Series[], width: number, height: number): string {
  const defaults = panel.fieldConfig?.defaults ?? {};
  const steps = defaults.thresholds?.steps;
  const min = defaults.min ?? 0;
  const max = defaults.max ?? Math.max(1, ...series.map((s) => last(s) ?? 0));
  const nameWidth = Math.min(width * 0.42, 14 + Math.max(...series.map((s) => textWidth(s.name, 12))));
  const valueWidth = 64;
  const gap = 8;
  const rowH = Math.min(32, (height - 8 - gap * (series.length - 1)) / Math.max(1, series.length));
  const barLeft = nameWidth + 6;
  const barWidth = width - barLeft - valueWidth - 8;
  const out: string[] = [];
  series.forEach((s, k) => {
    const value = last(s);
    const fill = thresholdColor(steps, value);
    const y = 4 + k * (rowH + gap);
    const share = value === null ? 0 : Math.max(0, Math.min(1, (value - min) / (max - min)));
    const gradient = `grad-${panel.id}-${k}`;
    out.push(
      `<defs><linearGradient id="${gradient}" x1="0" x2="1" y1="0" y2="0"><stop offset="0" stop-color="${fill}" stop-opacity="0.35"/><stop offset="1" stop-color="${fill}" stop-opacity="1"/></linearGradient></defs>`,
    );
    out.push(text(8, y + rowH / 2 + 4, s.name, { fill: THEME.text }));
    out.push(
      `<rect x="${barLeft}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${rowH.toFixed(1)}" fill="rgba(204,204,220,0.06)" rx="2"/>`,
    );
    out.push(
      `<rect x="${barLeft}" y="${y.toFixed(1)}" width="${(barWidth * share).toFixed(1)}" height="${rowH.toFixed(1)}" fill="url(#${gradient})" rx="2"/>`,
    );
    out.push(
      text(width - 8, y + rowH / 2 + 6, formatValue(value, defaults.unit, defaults.decimals), {
        size: 16,
        fill,
        anchor: 'end',
        weight: 500,
      }),
    );
  });
  return svg(width, height, out.join(''));
}
