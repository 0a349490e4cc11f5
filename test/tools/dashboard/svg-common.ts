/* Colours, text and legend helpers shared by the panel drawings (Grafana's dark theme). */
import type { ThresholdStep } from './dashboard-types.js';

export const THEME = {
  page: '#111217',
  panel: '#181b1f',
  border: '#2c3235',
  grid: 'rgba(204, 204, 220, 0.09)',
  text: '#ccccdc',
  textWeak: 'rgba(204, 204, 220, 0.65)',
  font: "'Liberation Sans', Arial, Helvetica, sans-serif",
} as const;

/** Grafana's named colours, as its dark theme draws them. */
const NAMED: Readonly<Record<string, string>> = {
  green: '#73BF69',
  'dark-green': '#37872D',
  orange: '#FF9830',
  red: '#F2495C',
  'dark-red': '#C4162A',
  blue: '#5794F2',
  yellow: '#FADE2A',
  purple: '#B877D9',
  text: '#ccccdc',
  transparent: 'rgba(0,0,0,0)',
};

/** palette-classic, in order. */
export const PALETTE = ['#7EB26D', '#EAB839', '#6ED0E0', '#EF843C', '#E24D42', '#1F78C1', '#BA43A6', '#705DA0', '#508642', '#CCA300'];

export const color = (name: string): string => NAMED[name] ?? name;

/** The colour of the last threshold step at or below v. */
export function thresholdColor(steps: readonly ThresholdStep[] | undefined, v: number | null): string {
  let chosen = steps?.[0]?.color ?? 'green';
  for (const step of steps ?? []) if (step.value === null || (v !== null && v >= step.value)) chosen = step.color;
  return color(chosen);
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/** Width of text in Liberation Sans at `size` px: about 0.53 em a character. */
export const textWidth = (text: string, size: number): number => text.length * size * 0.53;

export function text(
  x: number,
  y: number,
  content: string,
  attrs: { size?: number; fill?: string; anchor?: 'start' | 'middle' | 'end'; weight?: number } = {},
): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${attrs.size ?? 12}" fill="${attrs.fill ?? THEME.textWeak}" text-anchor="${attrs.anchor ?? 'start'}"${attrs.weight ? ` font-weight="${attrs.weight}"` : ''}>${escapeXml(content)}</text>`;
}

export interface LegendItem {
  readonly name: string;
  readonly color: string;
}

export interface LegendLayout {
  readonly svg: string;
  readonly height: number;
}

/** A bottom legend: coloured dashes and names, wrapped to the width; drawn with its top at y. */
export function legend(items: readonly LegendItem[], width: number, y: number): LegendLayout {
  const parts: string[] = [];
  const row = 18;
  let x = 8;
  let line = 0;
  for (const item of items) {
    const w = 22 + textWidth(item.name, 12) + 14;
    if (x + w > width - 8 && x > 8) {
      x = 8;
      line++;
    }
    const cy = y + line * row + 9;
    parts.push(`<rect x="${x}" y="${(cy - 2).toFixed(1)}" width="14" height="4" rx="1" fill="${item.color}"/>`);
    parts.push(text(x + 20, cy + 4, item.name, { fill: THEME.text }));
    x += w;
  }
  return { svg: parts.join(''), height: items.length === 0 ? 0 : (line + 1) * row + 4 };
}

/** How many legend lines the items need at this width (to size the plot before drawing it). */
export function legendHeight(items: readonly LegendItem[], width: number): number {
  return legend(items, width, 0).height;
}
