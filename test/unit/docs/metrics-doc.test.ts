// docs/metrics.md against the agent's registry: every metric the agent registers has a row, and
// the row states its real type and labels; the page names no metric the agent does not have.
// Likewise every reason code the agent can report has a row, and no row names a code it lacks.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { REJECTION_CODES } from '../../../pkg/model/index.js';
import { WARNING_CODES } from '../../../pkg/planner/index.js';
import { SERVICE_FAILURE_CODES } from '../../../pkg/reconciler/index.js';
import { agentMetricCatalog, type MetricInfo } from '../../tools/metric-catalog.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const doc = readFileSync(join(ROOT, 'docs/metrics.md'), 'utf8');
let catalog: Map<string, MetricInfo>;

beforeAll(async () => {
  catalog = await agentMetricCatalog();
});

/** The table row that documents `name`: "| `name` | type | labels | ...". */
function rowOf(name: string): string[] | undefined {
  const line = doc.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
  return line
    ?.split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());
}

/** Every code the agent reports, with the kind the codes table gives it. */
const CODES: ReadonlyArray<readonly [string, string]> = [
  ...REJECTION_CODES.map((code) => [code, 'rejection'] as const),
  ...WARNING_CODES.map((code) => [code, 'warning'] as const),
  ...SERVICE_FAILURE_CODES.map((code) => [code, 'failure'] as const),
];

/** The rows of the table under "### Reason codes", as [code, kind, meaning]. */
function codeRows(): string[][] {
  const section = doc.split('\n### Reason codes\n')[1]?.split('\n#')[0] ?? '';
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

const labelsIn = (cell: string): string[] => [...cell.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);

describe('docs/metrics.md', () => {
  it('has a row for every metric the agent registers, with its type and labels', () => {
    const problems: string[] = [];
    for (const m of catalog.values()) {
      const row = rowOf(m.name);
      if (!row) {
        problems.push(`${m.name}: no row`);
        continue;
      }
      if (row[1] !== m.type) problems.push(`${m.name}: documented as ${row[1]}, registered as ${m.type}`);
      const labels = labelsIn(row[2] ?? '');
      if (JSON.stringify([...labels].sort()) !== JSON.stringify([...m.labels].sort())) {
        problems.push(`${m.name}: documented labels [${labels.join(', ')}], registered [${m.labels.join(', ')}]`);
      }
      if (!m.isDefault && (row[3] ?? '').length < 20) problems.push(`${m.name}: no meaning given`);
    }
    expect(problems).toEqual([]);
  });

  it('names no nearby_ metric the agent does not register', () => {
    const histogramSeries = new Set(
      [...catalog.values()].filter((m) => m.type === 'histogram').flatMap((m) => ['_bucket', '_sum', '_count'].map((s) => m.name + s)),
    );
    const named = new Set([...doc.matchAll(/\bnearby_[a-z0-9_]+/g)].map((m) => m[0]));
    expect([...named].filter((n) => !catalog.has(n) && !histogramSeries.has(n))).toEqual([]);
  });

  it('has a row for every reason code, with its kind and meaning', () => {
    const rows = new Map(codeRows().map(([code, kind, meaning]) => [code!.replace(/`/g, ''), { kind, meaning }]));
    const problems: string[] = [];
    for (const [code, kind] of CODES) {
      const row = rows.get(code);
      if (!row) problems.push(`${code}: no row`);
      else if (row.kind !== kind) problems.push(`${code}: documented as a ${row.kind}, it is a ${kind}`);
      else if ((row.meaning ?? '').length < 20) problems.push(`${code}: no meaning given`);
    }
    expect(problems).toEqual([]);
  });

  it('names no reason code the agent does not have', () => {
    const known = new Set(CODES.map(([code]) => code));
    expect(
      codeRows()
        .map(([code]) => code!.replace(/`/g, ''))
        .filter((code) => !known.has(code)),
    ).toEqual([]);
  });

  it('shows the dashboard picture', () => {
    expect(doc).toContain('](images/dashboard.png)');
  });
});
