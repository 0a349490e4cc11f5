// deploy/grafana/nearby-dashboard.json: the shape Grafana (schemaVersion 39) imports, queries that
// name only metrics and labels the agent registers and use each metric as its type allows, the
// scrape config in deploy/ keeping the labels the panels group by, and the docs picture drawable
// from it. test/kernel/dashboard-metrics.test.ts checks the same names against a running agent.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { allPanels, readDashboard, type Dashboard, type GridPos, type Panel } from '../../tools/dashboard/dashboard-types.js';
import { PAGE_WIDTH, renderPage } from '../../tools/dashboard/page.js';
import { declaredName, promqlNames } from '../../tools/dashboard/promql-names.js';
import { agentMetricCatalog, type MetricInfo } from '../../tools/metric-catalog.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DASHBOARD = join(ROOT, 'deploy/grafana/nearby-dashboard.json');
const PANEL_TYPES = new Set(['row', 'timeseries', 'stat', 'bargauge', 'gauge', 'table', 'text', 'barchart', 'heatmap']);
const FUNCTIONS = new Set(['sum', 'min', 'max', 'avg', 'count', 'rate', 'increase', 'histogram_quantile', 'time', 'vector', 'clamp_min']);
/** Labels the scrape adds to every series: `node` by the relabelling in deploy/, the rest by Prometheus. */
const TARGET_LABELS = new Set(['node', 'instance', 'job', 'pod', 'namespace']);
const BUILTIN_VARIABLES = new Set(['__rate_interval', '__interval', '__range']);
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

const dashboard: Dashboard = readDashboard(DASHBOARD);
const panels = allPanels(dashboard);
const queryPanels = panels.filter((p) => p.type !== 'row');
const queries = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, target: t })));
let catalog: Map<string, MetricInfo>;
const histograms = (): Set<string> => new Set([...catalog.values()].filter((m) => m.type === 'histogram').map((m) => m.name));

beforeAll(async () => {
  catalog = await agentMetricCatalog();
});

const overlaps = (a: GridPos, b: GridPos): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const where = (p: Panel): string => `panel ${p.id} "${p.title}"`;

describe('the dashboard JSON has the shape Grafana imports', () => {
  it('names itself: title, a stable uid, a recent schemaVersion, a time range', () => {
    expect(dashboard.title).toBe('nearby');
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.time).toEqual({ from: expect.stringMatching(/^now-/) as unknown, to: 'now' });
    expect(Array.isArray(dashboard.panels)).toBe(true);
    expect(queryPanels.length).toBeGreaterThanOrEqual(10);
  });

  it('has a Prometheus datasource variable, and node and service variables that query through it', () => {
    const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    expect(vars.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const name of ['node', 'service']) {
      const v = vars.get(name);
      expect(v, name).toMatchObject({ type: 'query', datasource: DATASOURCE, includeAll: true, multi: true, allValue: '.*' });
      expect(v?.definition, name).toMatch(new RegExp(`^label_values\\(nearby_[a-z_]+(\\{[^}]*\\})?, ${name}\\)$`));
    }
  });

  it('gives every panel a unique id, a known type, a title and a gridPos on the 24-column grid', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(Number.isInteger(p.id) && p.id > 0, where(p)).toBe(true);
      expect(PANEL_TYPES.has(p.type), `${where(p)} type ${p.type}`).toBe(true);
      expect(p.title.trim(), where(p)).not.toBe('');
      const { x, y, w, h } = p.gridPos;
      for (const n of [x, y, w, h]) expect(Number.isInteger(n) && n >= 0, `${where(p)} gridPos ${JSON.stringify(p.gridPos)}`).toBe(true);
      expect(w >= 1 && h >= 1 && x + w <= 24, `${where(p)} gridPos ${JSON.stringify(p.gridPos)}`).toBe(true);
      if (p.type === 'row') expect(p.gridPos, where(p)).toMatchObject({ x: 0, w: 24, h: 1 });
    }
  });

  it('places no two panels on the same cells', () => {
    const clashes: string[] = [];
    panels.forEach((a, i) =>
      panels.slice(i + 1).forEach((b) => overlaps(a.gridPos, b.gridPos) && clashes.push(`${where(a)} and ${where(b)}`)),
    );
    expect(clashes).toEqual([]);
  });

  it('gives every non-row panel Prometheus targets with an expr, a unique refId and the datasource variable', () => {
    for (const p of queryPanels) {
      expect(p.datasource, where(p)).toEqual(DATASOURCE);
      expect(p.fieldConfig?.defaults, where(p)).toBeDefined();
      expect(p.targets?.length, where(p)).toBeGreaterThan(0);
      const refIds = p.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, where(p)).toBe(refIds.length);
      for (const t of p.targets!) {
        expect(t.expr.trim(), where(p)).not.toBe('');
        expect(t.datasource, where(p)).toEqual(DATASOURCE);
      }
    }
  });

  it('uses only variables it defines, or Grafana builtins', () => {
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    for (const { panel, target } of queries) {
      for (const [, name] of target.expr.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) {
        expect(defined.has(name!) || BUILTIN_VARIABLES.has(name!), `${where(panel)} uses $${name}`).toBe(true);
      }
    }
  });
});

describe('the queries name only what the agent exports, each as its type allows', () => {
  it('names only metrics the agent registers (histogram series by their base name)', () => {
    const missing = queries.flatMap(({ panel, target }) =>
      promqlNames(target.expr)
        .metrics.filter((m) => !catalog.has(declaredName(m, histograms())))
        .map((m) => `${where(panel)}: ${m}`),
    );
    expect(missing).toEqual([]);
  });

  it('covers the signals the issue asks for', () => {
    const used = new Set(queries.flatMap(({ target }) => promqlNames(target.expr).metrics.map((m) => declaredName(m, histograms()))));
    for (const m of [
      'nearby_connects_total',
      'nearby_connects_tier0_ratio',
      'nearby_endpoints_programmed',
      'nearby_reconcile_duration_seconds',
      'nearby_map_write_errors_total',
      'nearby_watch_restarts_total',
      'nearby_watch_relists_total',
    ]) {
      expect(used.has(m), m).toBe(true);
    }
  });

  it('calls only known functions and takes rates of counters and histogram series only', () => {
    for (const { panel, target } of queries) {
      const names = promqlNames(target.expr);
      for (const f of names.functions) expect(FUNCTIONS.has(f), `${where(panel)} calls ${f}`).toBe(true);
      for (const s of names.selectors) {
        const base = declaredName(s.metric, histograms());
        const info = catalog.get(base)!;
        const innermost = s.within.at(-1) ?? '';
        const ranged = innermost === 'rate' || innermost === 'increase';
        const cumulative = info.type === 'counter' || (info.type === 'histogram' && base !== s.metric);
        expect(
          ranged,
          `${where(panel)}: ${s.metric} is a ${info.type}${ranged ? ', not to be rated' : ' and needs rate() or increase()'}`,
        ).toBe(cumulative);
        if (s.metric.endsWith('_bucket')) expect(s.within, `${where(panel)}: ${s.metric}`).toContain('histogram_quantile');
      }
    }
  });

  it('matches and groups by labels the metrics carry or the scrape adds', () => {
    for (const { panel, target } of queries) {
      const names = promqlNames(target.expr);
      const labels = new Set([...TARGET_LABELS]);
      for (const s of names.selectors) {
        const base = declaredName(s.metric, histograms());
        catalog.get(base)!.labels.forEach((l) => labels.add(l));
        if (s.metric.endsWith('_bucket')) labels.add('le');
        for (const l of s.labels) expect(labels.has(l), `${where(panel)}: ${s.metric} has no label ${l}`).toBe(true);
      }
      for (const g of names.groupings) for (const l of g.labels) expect(labels.has(l), `${where(panel)}: grouping by ${l}`).toBe(true);
      // A legend can name only what survives the aggregation.
      const kept = names.groupings.filter((g) => g.keyword === 'by').flatMap((g) => g.labels);
      const legendLabels = [...(target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!);
      const aggregated = names.functions.some((f) => ['sum', 'min', 'max', 'avg', 'count'].includes(f));
      for (const l of legendLabels) expect(aggregated ? kept.includes(l) : labels.has(l), `${where(panel)}: legend {{${l}}}`).toBe(true);
    }
  });
});

/** Every YAML document under deploy/ except the Helm chart's templates (not YAML until rendered). */
function deployDocuments(): Array<{ file: string; doc: Record<string, unknown> }> {
  const out: Array<{ file: string; doc: Record<string, unknown> }> = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'helm' && name !== 'samples') walk(path);
      } else if (/\.ya?ml$/.test(name)) {
        for (const d of parseAllDocuments(readFileSync(path, 'utf8'))) {
          const doc = d.toJS() as Record<string, unknown> | null;
          if (doc && typeof doc === 'object') out.push({ file: path.slice(ROOT.length + 1), doc });
        }
      }
    }
  };
  walk(join(ROOT, 'deploy'));
  return out;
}

describe('the scrape config in deploy/ keeps the labels the panels use', () => {
  it("ServiceMonitors keep the agent's own `service` label and copy the node name into `node`", () => {
    // prometheus-operator gives every target a `service` label (the metrics Service's name). On that
    // collision Prometheus renames the agent's `service` (the balanced Service) to exported_service,
    // and every per-Service panel would show one line, "nearby-agent-metrics". honorLabels: true
    // keeps the agent's; a metricRelabeling that copies a non-empty exported_service back works
    // too, also where a platform forces honorLabels off.
    const monitors = deployDocuments().filter(({ doc }) => doc['kind'] === 'ServiceMonitor');
    expect(monitors.length).toBeGreaterThan(0);
    for (const { file, doc } of monitors) {
      const endpoints = ((doc['spec'] as Record<string, unknown> | undefined)?.['endpoints'] ?? []) as Array<Record<string, unknown>>;
      expect(endpoints.length, file).toBeGreaterThan(0);
      for (const e of endpoints) {
        const restores = ((e['metricRelabelings'] ?? []) as Array<Record<string, unknown>>).some(
          (r) => JSON.stringify(r['sourceLabels']) === '["exported_service"]' && r['targetLabel'] === 'service' && r['regex'] === '(.+)',
        );
        expect(
          e['honorLabels'] === true || restores,
          `${file}: endpoint ${String(e['port'])} needs honorLabels: true (or a metricRelabeling restoring service from exported_service)`,
        ).toBe(true);
        const relabelings = (e['relabelings'] ?? []) as Array<Record<string, unknown>>;
        expect(
          relabelings.some(
            (r) => r['targetLabel'] === 'node' && JSON.stringify(r['sourceLabels']) === '["__meta_kubernetes_pod_node_name"]',
          ),
          file,
        ).toBe(true);
      }
    }
  });
});

describe('the picture in the docs', () => {
  it('can be drawn from the dashboard: every panel type is drawable and every query has sample data', () => {
    const page = renderPage(dashboard, PAGE_WIDTH);
    for (const p of queryPanels) expect(page.html, where(p)).toContain(p.title.replace(/&/g, '&amp;').replace(/</g, '&lt;'));
    expect(page.html.match(/<svg /g)?.length).toBe(queryPanels.length);
  });

  it('docs/images/dashboard.png is a PNG of the current layout (run `make dashboard-png` after changing the dashboard)', () => {
    const png = readFileSync(join(ROOT, 'docs/images/dashboard.png'));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const page = renderPage(dashboard, PAGE_WIDTH);
    // IHDR: width and height, big-endian, at bytes 16 and 20.
    expect({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }).toEqual({ width: page.width, height: page.height });
  });
});
