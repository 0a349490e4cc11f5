/*
 * Renders the Grafana dashboard to a PNG with sample data, for the docs (`make dashboard-png`):
 *   npx tsx test/tools/render-dashboard.ts [DASHBOARD.json] [OUT.png] [--html OUT.html]
 * There is no Grafana here: each panel is drawn as SVG from the dashboard JSON (type, gridPos,
 * units, thresholds, legends) and a made-up cluster (test/tools/dashboard/sample-cluster.ts),
 * and headless Chromium takes the screenshot.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { screenshot } from './dashboard/chromium.js';
import { readDashboard } from './dashboard/dashboard-types.js';
import { PAGE_WIDTH, renderPage } from './dashboard/page.js';

function main(): void {
  const { values, positionals } = parseArgs({ options: { html: { type: 'string' } }, allowPositionals: true });
  const source = resolve(positionals[0] ?? 'deploy/grafana/nearby-dashboard.json');
  const png = resolve(positionals[1] ?? 'docs/images/dashboard.png');
  const page = renderPage(readDashboard(source), PAGE_WIDTH);
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
  process.stdout.write(`${png}: ${page.width}x${page.height} from ${source}\n`);
}

main();
