/*
 * Every metric the agent registers (pkg/metrics, with prom-client's default process and Node.js
 * metrics), with its type, label names and help: what the dashboard and docs tests compare to.
 */
import { AgentMetrics } from '../../pkg/metrics/index.js';

export interface MetricInfo {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary';
  readonly labels: readonly string[];
  readonly help: string;
  /** prom-client's default metrics (process_*, nodejs_*), not nearby's own. */
  readonly isDefault: boolean;
}

/** The prefix the agent gives prom-client's default metrics. */
const DEFAULT_PREFIXES = ['nearby_process_', 'nearby_nodejs_'];

export async function agentMetricCatalog(): Promise<Map<string, MetricInfo>> {
  const registry = new AgentMetrics().registry;
  const catalog = new Map<string, MetricInfo>();
  for (const json of await registry.getMetricsAsJSON()) {
    const metric = registry.getSingleMetric(json.name) as unknown as { labelNames?: readonly string[] } | undefined;
    catalog.set(json.name, {
      name: json.name,
      type: String(json.type) as MetricInfo['type'],
      labels: [...(metric?.labelNames ?? [])],
      help: json.help,
      isDefault: DEFAULT_PREFIXES.some((p) => json.name.startsWith(p)),
    });
  }
  return catalog;
}
