/*
 * One line chart as SVG: a log-scale x axis (Services loaded) and a linear y axis from 0, one
 * line per series through the median of its points at each x, with every point drawn so a run's
 * spread stays visible. No library: the docs' plots are drawn from the benchmarks' JSON here.
 */
import { escapeXml } from '../dashboard/svg-common.js';

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly points: ReadonlyArray<readonly [x: number, y: number]>;
}

export interface Chart {
  readonly title: string;
  readonly yUnit: string;
  readonly series: readonly Series[];
}

export const CHART = { width: 420, height: 320, left: 56, right: 12, top: 34, bottom: 84 } as const;
const FONT = 'font-family="\'Liberation Sans\', Arial, Helvetica, sans-serif"';

const median = (values: readonly number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A round step for about five ticks from 0 to max. */
function yStep(max: number): number {
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
const thousands = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n));

/** The chart's SVG group, drawn at (dx, dy). */
export function drawChart(chart: Chart, dx: number, dy: number): string {
  const xs = [...new Set(chart.series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) => a - b);
  const ys = chart.series.flatMap((s) => s.points.map(([, y]) => y));
  if (xs.length === 0) throw new Error(`${chart.title}: no points`);
  const step = yStep(Math.max(...ys) * 1.05);
  const yMax = Math.ceil((Math.max(...ys) * 1.05) / step) * step;
  const [lo, hi] = [Math.log10(xs[0]!) - 0.15, Math.log10(xs.at(-1)!) + 0.15];
  const plotW = CHART.width - CHART.left - CHART.right;
  const plotH = CHART.height - CHART.top - CHART.bottom;
  const px = (x: number): number => round1(CHART.left + ((Math.log10(x) - lo) / (hi - lo)) * plotW);
  const py = (y: number): number => round1(CHART.top + plotH - (y / yMax) * plotH);
  const out: string[] = [`<g transform="translate(${dx},${dy})" ${FONT} font-size="11" fill="#333">`];
  out.push(`<text x="${CHART.left}" y="18" font-size="13" font-weight="bold">${escapeXml(chart.title)}</text>`);
  for (let y = 0; y <= yMax + 1e-9; y += step) {
    out.push(`<line x1="${CHART.left}" x2="${CHART.left + plotW}" y1="${py(y)}" y2="${py(y)}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${CHART.left - 6}" y="${py(y) + 4}" text-anchor="end">${+y.toFixed(2)}</text>`);
  }
  for (const x of xs) out.push(`<text x="${px(x)}" y="${CHART.top + plotH + 16}" text-anchor="middle">${thousands(x)}</text>`);
  out.push(`<text x="${CHART.left + plotW / 2}" y="${CHART.top + plotH + 30}" text-anchor="middle">Services loaded (log scale)</text>`);
  out.push(`<text transform="translate(14,${CHART.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yUnit)}</text>`);
  out.push(`<rect x="${CHART.left}" y="${CHART.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  chart.series.forEach((series, i) => {
    const at = [...new Set(series.points.map(([x]) => x))].sort((a, b) => a - b);
    const line = at.map((x) => `${px(x)},${py(median(series.points.filter(([px_]) => px_ === x).map(([, y]) => y)))}`);
    if (line.length > 1) out.push(`<polyline points="${line.join(' ')}" fill="none" stroke="${series.color}" stroke-width="2"/>`);
    for (const [x, y] of series.points) out.push(`<circle cx="${px(x)}" cy="${py(y)}" r="3" fill="${series.color}"/>`);
    const lx = CHART.left + (i % 2) * (plotW / 2);
    const ly = CHART.top + plotH + 46 + Math.floor(i / 2) * 14;
    out.push(`<rect x="${lx}" y="${ly - 8}" width="10" height="10" fill="${series.color}"/>`);
    out.push(`<text x="${lx + 14}" y="${ly + 1}">${escapeXml(series.label)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}
