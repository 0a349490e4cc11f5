/** lab/prometheus: the pinned Prometheus the lab runs against its API server, and where it finds the agents. */
export { pinnedPrometheusVersion, PrometheusMissingError, resolvePrometheus, type PrometheusBinaries } from './binaries.js';
export { AGENT_METRICS_SERVICE, AGENT_NAMESPACE, agentEndpointSlice, standInAddress } from './agent-endpoints.js';
export { LabPrometheus, RULES_FILE, type LabPrometheusOptions } from './lab-prometheus.js';
export { prometheusConfig } from './scrape-config.js';
