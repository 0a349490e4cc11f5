/*
 * Every PromQL query of the dashboard as Prometheus would receive it from Grafana with "All"
 * chosen, and the labels its panel needs on each series: those its legend prints ({{service}})
 * and those it groups by. histogram_quantile consumes `le`, so no result carries it.
 */
import { allPanels, type Dashboard } from './dashboard-types.js';
import { promqlNames } from './promql-names.js';

export interface PanelQuery {
  readonly panel: string;
  readonly refId: string;
  /** The query with the dashboard's variables replaced. */
  readonly expr: string;
  /** Labels every series of the answer must carry for the panel to show it as drawn. */
  readonly labels: readonly string[];
}

/** Grafana's values for the dashboard's variables: "All" is the variables' allValue, `.*`. */
export function withVariables(expr: string, rateInterval: string): string {
  return expr.replaceAll('$__rate_interval', rateInterval).replaceAll('$node', '.*').replaceAll('$service', '.*');
}

function legendLabels(format: string | undefined): string[] {
  return [...(format ?? '').matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)].map((m) => m[1]!);
}

export function panelQueries(dashboard: Dashboard, rateInterval: string): PanelQuery[] {
  return allPanels(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((target) => {
      const grouped = promqlNames(target.expr)
        .groupings.filter((g) => g.keyword === 'by')
        .flatMap((g) => g.labels);
      const quantile = promqlNames(target.expr).functions.includes('histogram_quantile');
      const labels = new Set([...legendLabels(target.legendFormat), ...grouped.filter((l) => !(quantile && l === 'le'))]);
      return { panel: panel.title, refId: target.refId, expr: withVariables(target.expr, rateInterval), labels: [...labels] };
    }),
  );
}
