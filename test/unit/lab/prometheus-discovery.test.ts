// lab/prometheus: how the lab publishes its host-process agents to a Prometheus that discovers
// them through the API server, and the scrape config that finds them there.
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { agentEndpointSlice, prometheusConfig, standInAddress } from '../../../lab/prometheus/index.js';

describe('the agents as endpoints of the metrics Service', () => {
  it('stands each agent in at the first address of its node pod range, which no pod holds', () => {
    expect(standInAddress('10.244.3.0/24')).toBe('10.244.3.1');
    expect(() => standInAddress('fd00::/64')).toThrow(/not an IPv4 CIDR/);
  });

  it('publishes one EndpointSlice per agent, of the metrics Service, with its node and port', () => {
    const slice = agentEndpointSlice('lab-worker2', '10.244.2.0/24', 41234) as {
      metadata: { name: string; namespace: string; labels: Record<string, string> };
      endpoints: Array<{ addresses: string[]; nodeName: string; conditions: { ready: boolean } }>;
      ports: Array<{ name: string; port: number }>;
    };
    expect(slice.metadata).toMatchObject({ name: 'nearby-agent-metrics-lab-worker2', namespace: 'nearby-system' });
    expect(slice.metadata.labels['kubernetes.io/service-name']).toBe('nearby-agent-metrics');
    // Not the EndpointSlice controller's: it must leave the lab's slices alone.
    expect(slice.metadata.labels['endpointslice.kubernetes.io/managed-by']).not.toBe('endpointslice-controller.k8s.io');
    expect(slice.endpoints).toEqual([{ addresses: ['10.244.2.1'], nodeName: 'lab-worker2', conditions: { ready: true } }]);
    expect(slice.ports).toEqual([{ name: 'metrics', port: 41234, protocol: 'TCP' }]);
  });
});

describe('the scrape config', () => {
  const config = parse(prometheusConfig({ kubeconfig: '/k', rulesFile: '/r.yaml', scrapeIntervalS: 2 })) as {
    rule_files: string[];
    scrape_configs: Array<{
      job_name: string;
      honor_labels: boolean;
      kubernetes_sd_configs: Array<Record<string, unknown>>;
      relabel_configs: Array<Record<string, unknown>>;
    }>;
  };
  const job = config.scrape_configs[0]!;

  it('discovers EndpointSlices on the API server, in the agents namespace only, and loads the rules', () => {
    expect(config.rule_files).toEqual(['/r.yaml']);
    expect(job.job_name).toBe('nearby-agent');
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'endpointslice', kubeconfig_file: '/k', namespaces: { names: ['nearby-system'] } }]);
  });

  it("keeps the agent's own service label and names series by node, as the ServiceMonitor does", () => {
    expect(job.honor_labels).toBe(true);
    expect(job.relabel_configs).toContainEqual(expect.objectContaining({ target_label: 'node' }));
  });

  it('scrapes loopback only: nothing outside the machine is ever a target', () => {
    const rewrite = job.relabel_configs.find((r) => r['target_label'] === '__address__');
    expect(rewrite).toMatchObject({ replacement: '127.0.0.1:$1' });
    expect(new RegExp(`^(?:${String(rewrite?.['regex'])})$`).test('10.244.2.1:41234')).toBe(true);
  });
});
