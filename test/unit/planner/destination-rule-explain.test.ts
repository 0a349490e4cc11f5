// `nearbyctl explain` for a Service a DestinationRule names.
import { describe, expect, it } from 'vitest';
import { explainService } from '../../../cmd/ctl/explain.js';
import { explainRule } from '../../../pkg/planner/index.js';
import { destinationRule, localityRule } from './dr-fixtures.js';
import { node, POD, seedEndpoints, seedNodes, service, slice, snapshotOf } from './fixtures.js';

const base = [...seedNodes(), service('helloworld'), slice('hw-1', { service: 'helloworld', endpoints: seedEndpoints() })];

describe('explain with DestinationRules', () => {
  it('names the rule, where it came from, what it does not apply, and the rules set aside', () => {
    const applied = destinationRule('hw', {
      host: 'helloworld',
      subsets: [{ name: 'v1' }],
      trafficPolicy: {
        connectionPool: { http: { maxRequestsPerConnection: 1 } },
        loadBalancer: { simple: 'ROUND_ROBIN', localityLbSetting: { failoverPriority: ['pool', 'topology.kubernetes.io/zone'] } },
        outlierDetection: { consecutive5xxErrors: 1 },
      },
    });
    const client = localityRule('client', 'helloworld.sample.svc.cluster.local', { enabled: false }, { namespace: 'sleep' });
    const root = localityRule('root', '*', { enabled: false }, { namespace: 'istio-system' });
    const snapshot = snapshotOf([...base, applied, client, root]);
    expect(explainRule(snapshot, 'sample/helloworld')).toEqual([
      'DestinationRule sample/hw applies (from the service namespace, host "helloworld" names helloworld.sample.svc.cluster.local)',
      '  its localityLbSetting replaces trafficDistribution and the annotation; nearby needs no outlierDetection for it (Istio sidecars apply locality only when outlierDetection is set)',
      '  failoverPriority labels pool are read from the Nodes of client and endpoint, not from Pods as in Istio',
      '  outlierDetection: a TCP endpoint is ejected after 1 failed connects in a row, for 30s x times ejected, at most 10% of endpoints at once (decay every 10s)',
      '  port 5000: ROUND_ROBIN inside the tier',
      '  not applied at L4: spec.subsets',
      '  not applied at L4: spec.trafficPolicy.connectionPool.http',
      'DestinationRule istio-system/root also names this Service; it loses by precedence',
      'DestinationRule sleep/client not applied: it lives in namespace sleep, so Istio applies it to clients in sleep only',
    ]);
    const { text } = explainService(snapshot, 'w1', 'sample/helloworld', {});
    expect(text).toContain('DestinationRule sample/hw applies');
    expect(text).toContain('DestinationRule sleep/client: not applied to Service sample/helloworld');
    expect(text).toContain('DestinationRule sample/hw: applied to Service sample/helloworld at L4 only');
  });

  it('shows Maglev with its table per tier, ringHash as served by Maglev, and a PASSTHROUGH port as not intercepted', () => {
    const ports = [
      { name: 'http', port: 5000 },
      { name: 'admin', port: 9000 },
    ];
    const rule = destinationRule('hw', {
      host: 'helloworld',
      trafficPolicy: {
        loadBalancer: { consistentHash: { useSourceIp: true, ringHash: { minimumRingSize: 2048 } } },
        portLevelSettings: [{ port: { number: 9000 }, loadBalancer: { simple: 'PASSTHROUGH' } }],
      },
    });
    const snapshot = snapshotOf([
      ...seedNodes(),
      service('helloworld', { ports }),
      slice('hw-1', { service: 'helloworld', ports, endpoints: seedEndpoints() }),
      rule,
    ]);
    const lines = explainRule(snapshot, 'sample/helloworld');
    expect(lines).toContain(
      "  port 5000: MAGLEV inside the tier: the client's network namespace hashed into a table of 2039 slots per non-empty tier",
    );
    expect(
      lines.some((l) =>
        l.startsWith('    note: spec.trafficPolicy.loadBalancer.consistentHash.ringHash is served by a Maglev table of 2039'),
      ),
    ).toBe(true);
    expect(lines).toContain('  port 9000: PASSTHROUGH: not intercepted, connects reach the VIP unmodified');
    const { text } = explainService(snapshot, 'w1', 'sample/helloworld', {});
    expect(text).toContain('MAGLEV: each client network namespace hashes to one of 2039 slots');
    expect(text).toMatch(/:9000\/TCP: PASSTHROUGH, not intercepted: .* only where kube-proxy/);
  });

  it('says nothing about rules when none names the Service', () => {
    const snapshot = snapshotOf([...base, node('extra'), localityRule('other', 'nowhere.example.com', { enabled: false })]);
    expect(explainRule(snapshot, 'sample/helloworld')).toEqual([]);
  });
});

describe('explain with the kernel ejection state', () => {
  it('lists the endpoints the node ejected now, with their tier and the time left', () => {
    const snapshot = snapshotOf(base);
    const ejected = new Map([[`${POD.w1}:5000`, 12_400]]);
    const { text } = explainService(snapshot, 'w1', 'sample/helloworld', {}, ejected);
    expect(text).toContain(`ejected now by outlier detection, skipped by connects: ${POD.w1}:5000 (tier `);
    expect(text).toContain('12s left)');
    expect(explainService(snapshot, 'w1', 'sample/helloworld', {}).text).not.toContain('ejected now');
  });
});
