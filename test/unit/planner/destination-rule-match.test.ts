// Which DestinationRule applies to a Service: host matching, exportTo, precedence, and the rules
// Istio would apply per client, which nearby reports instead of applying.
import { describe, expect, it } from 'vitest';
import { hostSpecificity } from '../../../pkg/planner/rule-match.js';
import { destinationRule, localityRule } from './dr-fixtures.js';
import { planFor, plannedService, seedEndpoints, seedNodes, service, slice } from './fixtures.js';

const base = [...seedNodes(), service('helloworld'), slice('hw-1', { service: 'helloworld', endpoints: seedEndpoints() })];
const off = { enabled: false };

function applied(rules: unknown[], options = {}): { rule: string | undefined; codes: string[]; reason: string } {
  const result = planFor([...base, ...rules], 'w1', options);
  const planned = plannedService(result);
  return { rule: planned.destinationRule, codes: result.warnings.map((w) => `${w.code} ${w.name}`), reason: planned.reason };
}

describe('DestinationRule host matching', () => {
  it.each([
    ['helloworld', 'sample', true],
    ['helloworld', 'other', false],
    ['helloworld.sample.svc.cluster.local', 'sample', true],
    ['HelloWorld.sample.svc.cluster.local', 'sample', true],
    ['helloworld.sample.svc.cluster.example', 'sample', false],
    ['*.sample.svc.cluster.local', 'sample', true],
    ['*.svc.cluster.local', 'sample', true],
    ['*.other.svc.cluster.local', 'sample', false],
    ['*', 'sample', true],
    ['my-service.example.com', 'sample', false],
  ])('host %j in namespace %s names sample/helloworld: %s', (host, ns, expected) => {
    const rule = localityRule('r', host, off, { namespace: ns === 'other' ? 'istio-system' : ns });
    expect(applied([rule]).rule !== undefined).toBe(expected);
  });

  it('follows the cluster domain option', () => {
    const rule = localityRule('r', 'helloworld.sample.svc.corp.internal', off);
    expect(applied([rule]).rule).toBeUndefined();
    expect(applied([rule], { clusterDomain: 'corp.internal' }).rule).toBe('sample/r');
  });

  it('ranks exact hosts above wildcards, longer wildcards above shorter', () => {
    const name = 'a.ns.svc.cluster.local';
    expect(hostSpecificity(name, name)).toBeGreaterThan(hostSpecificity('*.ns.svc.cluster.local', name));
    expect(hostSpecificity('*.ns.svc.cluster.local', name)).toBeGreaterThan(hostSpecificity('*.cluster.local', name));
    expect(hostSpecificity('*.cluster.local', name)).toBeGreaterThan(hostSpecificity('*', name));
    expect(hostSpecificity('*.other.svc.cluster.local', name)).toBe(-1);
  });
});

describe('DestinationRule precedence', () => {
  it('the Service namespace beats the root namespace, whatever the specificity', () => {
    const own = localityRule('own', '*', off);
    const root = localityRule('root', 'helloworld.sample.svc.cluster.local', off, { namespace: 'istio-system' });
    expect(applied([root, own]).rule).toBe('sample/own');
    expect(applied([root]).rule).toBe('istio-system/root');
  });

  it('follows the root namespace option', () => {
    const root = localityRule('root', 'helloworld.sample.svc.cluster.local', off, { namespace: 'mesh-root' });
    expect(applied([root], { rootNamespace: 'mesh-root' }).rule).toBe('mesh-root/root');
    expect(applied([root]).codes).toEqual(['dr-per-client mesh-root/root']);
  });

  it('most specific host, then oldest, then name', () => {
    const wild = localityRule('a-wild', '*.sample.svc.cluster.local', off, { creationTimestamp: '2020-01-01T00:00:00Z' });
    const exact = localityRule('z-exact', 'helloworld', off, { creationTimestamp: '2026-01-01T00:00:00Z' });
    expect(applied([wild, exact]).rule).toBe('sample/z-exact');
    const young = localityRule('a', 'helloworld', off, { creationTimestamp: '2026-01-01T00:00:00Z' });
    const old = localityRule('b', 'helloworld', off, { creationTimestamp: '2025-01-01T00:00:00Z' });
    expect(applied([young, old]).rule).toBe('sample/b');
    expect(applied([localityRule('b', 'helloworld', off), localityRule('a', 'helloworld', off)]).rule).toBe('sample/a');
  });

  it('exportTo: unset and "*" are visible everywhere; "." or a list of namespaces is per client', () => {
    expect(applied([destinationRule('r', { host: 'helloworld', exportTo: ['*'] })]).rule).toBe('sample/r');
    for (const exportTo of [['.'], ['sample', 'sleep'], ['~']]) {
      const result = applied([destinationRule('r', { host: 'helloworld', exportTo })]);
      expect(result.rule, JSON.stringify(exportTo)).toBeUndefined();
      expect(result.codes).toEqual(['dr-per-client sample/r']);
    }
  });

  it('a rule in a client namespace, or with a workloadSelector, is reported and not applied; the next one applies', () => {
    const client = localityRule('client', 'helloworld.sample.svc.cluster.local', off, { namespace: 'sleep' });
    const selected = destinationRule('selected', { host: 'helloworld', workloadSelector: { matchLabels: { app: 'sleep' } } });
    const root = localityRule('root', 'helloworld.sample.svc.cluster.local', off, { namespace: 'istio-system' });
    const result = applied([client, selected, root]);
    expect(result.rule).toBe('istio-system/root');
    expect(result.codes).toEqual(['dr-per-client sample/selected', 'dr-per-client sleep/client']);
  });

  it('a rule without localityLbSetting leaves trafficDistribution in charge and says so', () => {
    const objects = [
      ...seedNodes(),
      service('helloworld', { trafficDistribution: 'PreferClose' }),
      slice('hw-1', { service: 'helloworld', endpoints: seedEndpoints() }),
    ];
    const result = planFor(
      [...objects, destinationRule('rr', { host: 'helloworld', trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } })],
      'w1',
    );
    const planned = plannedService(result);
    expect(planned.mode).toBe('FAILOVER');
    expect(planned.reason).toContain('spec.trafficDistribution=PreferClose');
    expect(planned.reason).toContain('DestinationRule sample/rr (service namespace) sets no localityLbSetting');
    expect(planned.entries[0]?.balance).toBe('ROUND_ROBIN');
  });
});
