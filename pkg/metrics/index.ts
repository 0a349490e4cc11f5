/** pkg/metrics: the agent's Prometheus registry and its /metrics, /healthz and /readyz server. */
export { AgentMetrics, type ConnectCounters, type EjectionCounts, type FailOpenReading, type SourceStats } from './metrics.js';
export { startHealthServer, type HealthServer, type HealthServerOptions, type Readiness } from './server.js';
export { ListenAddressError, parseListen, type ListenAddress } from './listen.js';
