/*
 * The prometheus.yml `lab up --prometheus` runs: one job, nearby-agent, found by
 * kubernetes_sd_configs (role endpointslice) on the lab's API server as a cluster's Prometheus
 * finds the agents behind deploy/metrics-service.yaml, with the ServiceMonitor's choices
 * (honor_labels, `node` from the node name) and deploy/prometheus/nearby-rules.yaml loaded.
 *
 * One rewrite is the lab's own: its agents are host processes listening on loopback, which an
 * EndpointSlice may not hold (the API server refuses 127.0.0.0/8), so agent-endpoints.ts publishes
 * each under its node's stand-in address and this config scrapes the port on 127.0.0.1. Nothing
 * outside the machine is ever a target.
 */
import { stringify } from 'yaml';
import { AGENT_METRICS_SERVICE, AGENT_NAMESPACE } from './agent-endpoints.js';

export interface ScrapeConfigOptions {
  /** The kubeconfig Prometheus reads the API server with. */
  readonly kubeconfig: string;
  readonly rulesFile: string;
  readonly scrapeIntervalS: number;
}

export function prometheusConfig(options: ScrapeConfigOptions): string {
  const interval = `${options.scrapeIntervalS}s`;
  return stringify({
    global: { scrape_interval: interval, evaluation_interval: interval },
    rule_files: [options.rulesFile],
    scrape_configs: [
      {
        job_name: 'nearby-agent',
        honor_labels: true,
        kubernetes_sd_configs: [{ role: 'endpointslice', kubeconfig_file: options.kubeconfig, namespaces: { names: [AGENT_NAMESPACE] } }],
        relabel_configs: [
          { source_labels: ['__meta_kubernetes_service_name'], regex: AGENT_METRICS_SERVICE, action: 'keep' },
          { source_labels: ['__meta_kubernetes_endpointslice_port_name'], regex: 'metrics', action: 'keep' },
          // A Pod's node in a cluster, the EndpointSlice endpoint's nodeName in the lab.
          {
            source_labels: ['__meta_kubernetes_pod_node_name', '__meta_kubernetes_endpointslice_endpoint_node_name'],
            separator: ';',
            regex: ';*([^;]+);*.*',
            target_label: 'node',
          },
          { source_labels: ['__address__'], regex: '.*:(\\d+)', replacement: '127.0.0.1:$1', target_label: '__address__' },
        ],
      },
    ],
  });
}
