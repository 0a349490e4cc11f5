/*
 * Draws how cost grows with the number of Services (docs/images/cost-growth.svg) from the
 * bench:connect JSON objects in a JSON-lines file (docs/data/cost-growth.jsonl, one run a line,
 * as the benchmark printed it):
 *   npx tsx test/tools/render-cost-growth.ts [RUNS.jsonl] [OUT.svg]
 * Three charts: connect+close p50, resident memory, and start to all Services programmed, for
 * each system a run measured (kube-proxy only where it ran: its keys are null otherwise).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CHART, type Chart, drawChart, type Series } from './cost-growth/line-chart.js';

type Run = Readonly<Record<string, unknown>>;

/** nearby is drawn per source: how it reads the Services changes its start, not its connects. */
const SYSTEMS: ReadonlyArray<{ key: string; label: string; color: string; source?: string }> = [
  { key: 'direct', label: 'direct (the floor)', color: '#888888' },
  { key: 'nearby', label: 'nearby, FileSource', color: '#1f77b4', source: 'FileSource' },
  { key: 'nearby', label: 'nearby, KubernetesSource', color: '#17becf', source: 'KubernetesSource' },
  { key: 'iptables', label: 'kube-proxy iptables (nf_tables)', color: '#d62728' },
  { key: 'iptables_legacy', label: 'kube-proxy iptables (legacy)', color: '#9467bd' },
  { key: 'nftables', label: 'kube-proxy nftables', color: '#ff7f0e' },
];

/** What a run reports for a system under a key, as [Services, value], when it measured it. */
function points(runs: readonly Run[], key: (system: string) => string, system: string, scale = 1): Array<[number, number]> {
  return runs.flatMap((run) => {
    const value = run[key(system)];
    return typeof value === 'number' ? [[run.services as number, value * scale] as [number, number]] : [];
  });
}

function chart(runs: readonly Run[], title: string, yUnit: string, key: (system: string) => string, scale = 1): Chart {
  const series: Series[] = SYSTEMS.map((s) => {
    const measured = runs.filter((run) => s.source === undefined || run.nearby_source === s.source);
    return { label: s.label, color: s.color, points: points(measured, key, s.key, scale) };
  }).filter((s) => s.points.length > 0);
  return { title, yUnit, series };
}

function main(): void {
  const source = resolve(process.argv[2] ?? 'docs/data/cost-growth.jsonl');
  const out = resolve(process.argv[3] ?? 'docs/images/cost-growth.svg');
  const runs = readFileSync(source, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Run);
  const charts = [
    chart(runs, 'connect+close p50', 'µs', (s) => `${s}_ns`, 1e-3),
    chart(runs, 'resident memory after programming', 'MiB', (s) => (s === 'nearby' ? 'nearby_agent_rss_mib' : `${s}_rss_mib`)),
    chart(runs, 'start to all Services programmed', 's', (s) => `${s}_program_ms`, 1e-3),
  ];
  const width = CHART.width * charts.length;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${CHART.height}" viewBox="0 0 ${width} ${CHART.height}">`,
    `<rect width="${width}" height="${CHART.height}" fill="#ffffff"/>`,
    ...charts.map((c, i) => drawChart(c, i * CHART.width, 0)),
    '</svg>',
    '',
  ].join('\n');
  writeFileSync(out, svg);
  process.stdout.write(`${out}: ${charts.length} charts from ${runs.length} runs in ${source}\n`);
}

main();
