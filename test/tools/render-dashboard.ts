/*
 * Renders the Grafana dashboard to a PNG for the docs (`make dashboard-png`):
 *   npx tsx test/tools/render-dashboard.ts [DASHBOARD.json] [OUT.png] [--data RECORDING.json] [--html OUT.html]
 * There is no Grafana here: each panel is drawn as SVG from the dashboard JSON (type, gridPos,
 * units, thresholds, legends) and its series, and headless Chromium takes the screenshot. The
 * series are a lab Prometheus' query_range answers recorded by test/e2e/lab-prometheus.test.ts
 * (--data, what docs/images/dashboard.png shows), or without --data a made-up cluster
 * (test/tools/dashboard/sample-cluster.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { screenshot } from './dashboard/chromium.js';
import { readDashboard } from './dashboard/dashboard-types.js';
import { PAGE_WIDTH, renderPage } from './dashboard/page.js';
import { readRecording, recordedSource } from './dashboard/recorded-series.js';

function main(): void {
  const { values, positionals } = parseArgs({ options: { html: { type: 'string' }, data: { type: 'string' } }, allowPositionals: true });
  const source = resolve(positionals[0] ?? 'deploy/grafana/nearby-dashboard.json');
  const png = resolve(positionals[1] ?? 'docs/images/dashboard.png');
  const recording = values.data ? readRecording(resolve(values.data)) : undefined;
  const page = renderPage(readDashboard(source), PAGE_WIDTH, recording ? recordedSource(recording) : undefined);
  if (values.html) writeFileSync(values.html, page.html);
  const work = mkdtempSync(join(tmpdir(), 'nearby-dashboard-'));
  try {
    const html = join(work, 'dashboard.html');
    writeFileSync(html, page.html);
    mkdirSync(dirname(png), { recursive: true });
    screenshot({ html, png, width: page.width, height: page.height });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`${png}: ${page.width}x${page.height} from ${source}${recording ? `, series of ${recording.source}` : ''}\n`);
}

main();
