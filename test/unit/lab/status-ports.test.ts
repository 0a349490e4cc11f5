// `lab status` summarises a Service with many ports instead of printing them all on every row.
import { describe, expect, it } from 'vitest';
import { portsCell, statusText } from '../../../lab/cli/lab-print.js';
import type { LabStatus, ServiceStatus } from '../../../lab/status.js';

const service = (ports: string[]): ServiceStatus => ({
  namespace: 'sample',
  name: 'many',
  clusterIP: '10.96.0.10',
  ports,
  endpoints: { ready: 1, total: 1 },
});

const status = (services: ServiceStatus[]): LabStatus => ({
  name: 'lab',
  stateDir: '/s',
  createdAt: new Date().toISOString(),
  supervisorPid: 1,
  nodes: [],
  pods: [],
  services,
});

describe('the PORTS column', () => {
  it('keeps a row short for a Service with 200 ports, and says how many are not shown', () => {
    const ports = Array.from({ length: 200 }, (_, i) => `${5000 + i}/TCP`);
    const row = statusText(status([service(ports)]))
      .split('\n')
      .find((l) => l.startsWith('sample/many'))!;
    expect(row.length).toBeLessThan(120);
    expect(row).toContain('5000/TCP,5001/TCP,5002/TCP +197 more');
  });

  it('shows a few ports in full', () => {
    expect(portsCell(['80/TCP', '443/TCP'])).toBe('80/TCP,443/TCP');
    expect(portsCell(['1/TCP', '2/TCP', '3/TCP', '4/TCP'])).toBe('1/TCP,2/TCP,3/TCP,4/TCP');
  });
});
