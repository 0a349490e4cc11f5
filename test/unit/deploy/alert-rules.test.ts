// The alert rules ship twice, as a plain rules file (deploy/prometheus/) and as the operator's
// PrometheusRule (deploy/prometheus-operator/): the two must hold the same groups, name only
// metrics the agent registers, and cover the five conditions docs/metrics.md promises an alert for.
// promtool tests what they do: test/cluster/alert-rules.test.ts.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { promqlNames } from '../../tools/dashboard/promql-names.js';
import { agentMetricCatalog, type MetricInfo } from '../../tools/metric-catalog.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PLAIN = join(ROOT, 'deploy/prometheus/nearby-rules.yaml');
const OPERATOR = join(ROOT, 'deploy/prometheus-operator/prometheusrule.yaml');
const KUSTOMIZATION = join(ROOT, 'deploy/prometheus-operator/kustomization.yaml');
const ALERTS = ['NearbyTier0ShareDropped', 'NearbyAgentNotReady', 'NearbyMapWritesFailing', 'NearbyObjectsRejected', 'NearbyFailingOpen'];
/** Series Prometheus makes itself for every target. */
const SCRAPE_SERIES = new Set(['up']);

interface Rule {
  readonly alert?: string;
  readonly expr: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}
interface Group {
  readonly name: string;
  readonly rules: readonly Rule[];
}

const plain = parse(readFileSync(PLAIN, 'utf8')) as { groups: Group[] };
const operator = parse(readFileSync(OPERATOR, 'utf8')) as {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: { groups: Group[] };
};
const rules = plain.groups.flatMap((g) => g.rules);
let catalog: Map<string, MetricInfo>;

beforeAll(async () => {
  catalog = await agentMetricCatalog();
});

describe('nearby alert rules', () => {
  it('the PrometheusRule holds exactly the groups of the plain rules file', () => {
    expect(operator).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' });
    expect(operator.metadata.namespace).toBe('nearby-system');
    expect(operator.spec.groups).toEqual(plain.groups);
  });

  it('the prometheus-operator kustomization applies the PrometheusRule', () => {
    const kustomization = parse(readFileSync(KUSTOMIZATION, 'utf8')) as { resources: string[] };
    expect(kustomization.resources).toContain('prometheusrule.yaml');
  });

  it('alerts on a tier-0 share drop, an agent not ready, failing map writes, rejected objects and failing open', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([...ALERTS].sort());
  });

  it('gives every alert a severity, a summary and a description', () => {
    for (const rule of rules) {
      expect(rule.labels?.['severity'], rule.alert).toMatch(/^(warning|critical)$/);
      expect(rule.annotations?.['summary'], rule.alert).toBeTruthy();
      expect(rule.annotations?.['description'], rule.alert).toBeTruthy();
    }
  });

  it('names only series the agent exports or the scrape makes', () => {
    const exported = new Set<string>();
    for (const info of catalog.values()) {
      exported.add(info.name);
      if (info.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(info.name + suffix);
    }
    for (const rule of rules) {
      for (const name of promqlNames(rule.expr).metrics) {
        expect(exported.has(name) || SCRAPE_SERIES.has(name), `${rule.alert}: ${name}`).toBe(true);
      }
    }
  });
});
