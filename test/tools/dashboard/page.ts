/*
 * The dashboard as one HTML page: a Grafana-like header with the template variables, then every
 * panel placed by its gridPos on Grafana's grid (24 columns, 30 px rows, 8 px gaps), its body an
 * inline SVG drawn from sample data, or from a recorded lab run (recorded-series.ts).
 */
import { allPanels, type Dashboard, type Panel } from './dashboard-types.js';
import type { SeriesSource } from './recorded-series.js';
import { sampleSeries, sampleTimes, type Series } from './sample-series.js';
import { escapeXml, THEME } from './svg-common.js';
import { bargaugeSvg, statSvg } from './svg-stat.js';
import { timeseriesSvg } from './svg-timeseries.js';

export const GRID = { columns: 24, rowHeight: 30, gap: 8 } as const;

/** CSS pixels across: the docs picture's width. */
export const PAGE_WIDTH = 1280;

export class UnsupportedPanelError extends Error {
  constructor(readonly panel: Panel) {
    super(`panel ${panel.id} "${panel.title}": the renderer cannot draw type ${JSON.stringify(panel.type)}`);
    this.name = 'UnsupportedPanelError';
  }
}

export interface PageLayout {
  readonly html: string;
  readonly width: number;
  readonly height: number;
}

const HEADER_HEIGHT = 96;
const TITLE_HEIGHT = 32;

/** The made-up cluster of sample-cluster.ts. */
export const SAMPLE_SOURCE: SeriesSource = { times: sampleTimes, series: sampleSeries };

function body(panel: Panel, series: readonly Series[], times: readonly number[], width: number, height: number): string {
  switch (panel.type) {
    case 'timeseries':
      return timeseriesSvg(panel, series, times, width, height);
    case 'stat':
      return statSvg(panel, series, width, height);
    case 'bargauge':
      return bargaugeSvg(panel, series, width, height);
    default:
      throw new UnsupportedPanelError(panel);
  }
}

function header(dashboard: Dashboard, source: SeriesSource): string {
  const variables = dashboard.templating.list
    .map((v) => {
      const value = v.type === 'datasource' ? 'Prometheus' : v.includeAll ? 'All' : '';
      return `<span class="var"><span class="var-label">${escapeXml(v.label ?? v.name)}</span><span class="var-value">${value} <span class="caret">&#9662;</span></span></span>`;
    })
    .join('');
  const range =
    source.range ?? (dashboard.time?.from === 'now-6h' ? 'Last 6 hours' : `${dashboard.time?.from ?? ''} to ${dashboard.time?.to ?? ''}`);
  return `<div class="top"><span class="crumbs">Home &#8250; Dashboards &#8250; <b>${escapeXml(dashboard.title)}</b></span>
<span class="tools"><span class="btn">&#9719; ${range} &#9662;</span><span class="btn">&#8635; ${escapeXml(dashboard.refresh ?? '')}</span></span></div>
<div class="vars">${variables}</div>`;
}

export function renderPage(dashboard: Dashboard, width: number, source: SeriesSource = SAMPLE_SOURCE): PageLayout {
  const times = source.times();
  const columnWidth = (width - 2 * 16 - (GRID.columns - 1) * GRID.gap) / GRID.columns;
  const px = {
    x: (x: number) => 16 + x * (columnWidth + GRID.gap),
    y: (y: number) => HEADER_HEIGHT + y * (GRID.rowHeight + GRID.gap),
    w: (w: number) => w * columnWidth + (w - 1) * GRID.gap,
    h: (h: number) => h * GRID.rowHeight + (h - 1) * GRID.gap,
  };
  const blocks: string[] = [];
  let bottom = 0;
  for (const panel of allPanels(dashboard)) {
    const { x, y, w, h } = panel.gridPos;
    const box = `left:${px.x(x).toFixed(1)}px;top:${px.y(y)}px;width:${px.w(w).toFixed(1)}px;height:${px.h(h)}px`;
    bottom = Math.max(bottom, px.y(y) + px.h(h));
    if (panel.type === 'row') {
      blocks.push(`<div class="row" style="${box}"><span class="chevron">&#8964;</span>${escapeXml(panel.title)}</div>`);
      continue;
    }
    const series = (panel.targets ?? []).flatMap((t) => source.series(t));
    const width = Math.floor(px.w(w));
    const height = px.h(h) - TITLE_HEIGHT - 2;
    blocks.push(
      `<div class="panel" style="${box}"><div class="title">${escapeXml(panel.title)}${panel.description ? ' <span class="info">i</span>' : ''}</div>${body(panel, series, times, width - 2, height)}</div>`,
    );
  }
  const height = Math.ceil(bottom + 16);
  const html = `<!doctype html><html><head><meta charset="utf-8"><style>
html,body{margin:0;background:${THEME.page};color:${THEME.text};font-family:${THEME.font};width:${width}px;height:${height}px;overflow:hidden}
.top{height:44px;display:flex;align-items:center;justify-content:space-between;padding:0 16px;border-bottom:1px solid ${THEME.border};font-size:14px}
.crumbs{color:${THEME.textWeak}} .crumbs b{color:${THEME.text};font-weight:500}
.btn{border:1px solid ${THEME.border};border-radius:2px;padding:5px 10px;margin-left:8px;font-size:13px;background:${THEME.panel}}
.vars{height:44px;display:flex;align-items:center;padding:0 16px;gap:10px}
.var{display:inline-flex;font-size:13px;border:1px solid ${THEME.border};border-radius:2px}
.var-label{background:#22252b;padding:5px 10px;border-right:1px solid ${THEME.border};font-weight:500}
.var-value{padding:5px 10px;background:${THEME.page}} .caret{color:${THEME.textWeak};font-size:11px}
.panel{position:absolute;background:${THEME.panel};border:1px solid ${THEME.border};border-radius:2px;overflow:hidden}
.title{height:${TITLE_HEIGHT}px;line-height:${TITLE_HEIGHT}px;padding:0 8px;font-size:14px;font-weight:500;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.info{display:inline-block;width:12px;height:12px;line-height:12px;border:1px solid ${THEME.textWeak};border-radius:50%;text-align:center;color:${THEME.textWeak};font-size:9px;font-weight:700;margin-left:4px;position:relative;top:-1px}
.row{position:absolute;font-size:16px;font-weight:500;line-height:30px}
.chevron{display:inline-block;width:18px;color:${THEME.textWeak};position:relative;top:-4px}
svg{display:block}
</style></head><body>${header(dashboard, source)}${blocks.join('\n')}</body></html>`;
  return { html, width, height };
}
