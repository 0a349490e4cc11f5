// 1,000 random DestinationRules, valid and broken, through the model and the planner: nothing
// throws or stalls, every broken one is rejected by name with a code, and every planned WEIGHTED
// Service is something the kernel can hold.
import { describe, expect, it } from 'vitest';
import { buildSnapshot, localityProblem, REJECTION_CODES, type DestinationRule } from '../../../pkg/model/index.js';
import { MAX_TIERS, plan } from '../../../pkg/planner/index.js';
import { destinationRule } from './dr-fixtures.js';
import { ep, node, service, slice } from './fixtures.js';

/** mulberry32: small, seeded, the same sequence on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REGIONS = ['r1', 'r2', 'r3', '*', '', 'r1/z1', 'r1/z1/s1', 'r1/*', '*/z1', 'r1//s', 'a/b/c/d', 'r1/z*'];
const SIMPLES = ['RANDOM', 'ROUND_ROBIN', 'LEAST_REQUEST', 'LEAST_CONN', 'PASSTHROUGH', 'UNSPECIFIED', 'BOGUS', 7];
const HOSTS = ['svc0', 'svc1', 'svc2.ns1.svc.cluster.local', '*.ns0.svc.cluster.local', '*', 'nowhere.example.com', '', 5];

function randomRule(rnd: () => number, i: number): Record<string, unknown> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const maybe = (p: number) => rnd() < p;
  const setting: Record<string, unknown> = {};
  if (maybe(0.2)) setting['enabled'] = maybe(0.5) ? maybe(0.5) : 'yes';
  if (maybe(0.4)) {
    setting['distribute'] = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => {
      const count = 1 + Math.floor(rnd() * (maybe(0.1) ? 12 : 4));
      const to: Record<string, unknown> = {};
      let left = 100;
      for (let k = 0; k < count; k++) {
        const weight = k === count - 1 ? left : Math.max(1, Math.floor(rnd() * left * 0.7));
        left -= weight;
        to[`${pick(REGIONS)}${k}`] = maybe(0.1) ? pick([0, 101, -3, 2.5, 'ten']) : weight;
      }
      return { from: pick(REGIONS), to };
    });
  }
  if (maybe(0.4))
    setting['failover'] = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ({ from: pick(REGIONS), to: pick(REGIONS) }));
  if (maybe(0.3))
    setting['failoverPriority'] = Array.from({ length: 1 + Math.floor(rnd() * 10) }, () =>
      pick(['topology.kubernetes.io/region', 'topology.istio.io/network', 'pool', 'pool=gold', 'kubernetes.io/hostname', '']),
    );
  const loadBalancer: Record<string, unknown> = {};
  if (maybe(0.7)) loadBalancer['localityLbSetting'] = setting;
  if (maybe(0.5)) loadBalancer['simple'] = pick(SIMPLES);
  if (maybe(0.2)) loadBalancer['consistentHash'] = pick([{ useSourceIp: true }, { httpHeaderName: 'x' }, { maglev: {} }, 'ring']);
  const trafficPolicy: Record<string, unknown> = { loadBalancer: maybe(0.05) ? 'oops' : loadBalancer };
  if (maybe(0.3))
    trafficPolicy['portLevelSettings'] = [{ port: { number: pick([80, 5000, 0, 70000]) }, loadBalancer: { simple: pick(SIMPLES) } }];
  if (maybe(0.2)) trafficPolicy['connectionPool'] = { http: { maxRequestsPerConnection: 1 } };
  const spec: Record<string, unknown> = { host: pick(HOSTS), trafficPolicy };
  if (maybe(0.2)) spec['exportTo'] = pick([['.'], ['*'], ['ns1'], [3]]);
  if (maybe(0.1)) spec['workloadSelector'] = { matchLabels: { app: 'x' } };
  if (maybe(0.2)) spec['subsets'] = [{ name: 'v1' }];
  return destinationRule(`r${i}`, spec, { namespace: pick(['ns0', 'ns1', 'istio-system', 'other']) });
}

/** What Istio's validation demands of an accepted rule, checked independently of the model. */
function expectValid(rule: DestinationRule): void {
  const setting = rule.loadBalancer?.localityLbSetting;
  if (!setting) return;
  expect(setting.distribute.length > 0 && setting.failover.length > 0, rule.key).toBe(false);
  for (const d of setting.distribute) {
    expect(localityProblem(d.from)).toBeUndefined();
    expect(d.to.reduce((sum, t) => sum + t.weight, 0)).toBe(100);
    expect(d.to.length).toBeLessThanOrEqual(MAX_TIERS);
    for (const t of d.to) {
      expect(localityProblem(t.locality)).toBeUndefined();
      expect(Number.isInteger(t.weight) && t.weight >= 1 && t.weight <= 100).toBe(true);
    }
  }
  for (const f of setting.failover) {
    expect(f.to.includes('*') || f.from === f.to || f.from.includes('/') || f.to.includes('/'), rule.key).toBe(false);
  }
}

function cluster(): unknown[] {
  const nodes = [
    node('n0', { region: 'r1', zone: 'z1', subzone: 's1' }, { pool: 'gold' }),
    node('n1', { region: 'r1', zone: 'z2' }),
    node('n2', { region: 'r2', zone: 'z3', network: 'far' }),
    node('n3', { region: 'r3', zone: 'z1' }),
  ];
  const services = ['ns0', 'ns1'].flatMap((ns) =>
    [0, 1, 2].flatMap((s) => [
      service(`svc${s}`, {
        namespace: ns,
        clusterIP: `10.96.${ns === 'ns0' ? 0 : 1}.${s + 1}`,
        ports: [
          { name: 'http', port: 5000 },
          { name: 'web', port: 80 },
        ],
      }),
      slice(`svc${s}-a`, {
        service: `svc${s}`,
        namespace: ns,
        ports: [
          { name: 'http', port: 5000 },
          { name: 'web', port: 8080 },
        ],
        endpoints: [0, 1, 2, 3].map((n) => ep(`10.244.${n}.${s + 1}`, `n${n}`)),
      }),
    ]),
  );
  return [...nodes, ...services];
}

describe('DestinationRule fuzz', () => {
  it('1,000 random rules never throw or stall; each broken one is rejected by name with a code', () => {
    const rnd = random(13);
    const rules = Array.from({ length: 1000 }, (_, i) => randomRule(rnd, i));
    const started = Date.now();
    let rejectedCount = 0;
    // In batches, so many rules meet the same Services and precedence is exercised too.
    for (let batch = 0; batch < 1000; batch += 50) {
      const batchRules = rules.slice(batch, batch + 50);
      const { snapshot, rejected } = buildSnapshot([...cluster(), ...batchRules]);
      for (const r of rejected) {
        expect(r.kind).toBe('DestinationRule');
        expect(r.name).toMatch(/^[a-z0-9-]+\/r\d+$/);
        expect(REJECTION_CODES).toContain(r.code);
        expect(r.message.length).toBeGreaterThan(0);
      }
      rejectedCount += rejected.length;
      for (const rule of snapshot.destinationRules.values()) expectValid(rule);
      // Every rule is either accepted or rejected: none vanishes.
      expect(snapshot.destinationRules.size + rejected.length).toBe(batchRules.length);
      for (const nodeName of ['n0', 'n1', 'n2', 'n3']) {
        const result = plan(snapshot, nodeName);
        for (const planned of result.services) {
          for (const entry of planned.entries) {
            expect(entry.tiers.length).toBeLessThanOrEqual(MAX_TIERS);
            if (planned.mode === 'WEIGHTED') expect(planned.weights?.length).toBe(entry.tiers.length);
          }
        }
      }
    }
    expect(rejectedCount).toBeGreaterThan(100);
    expect(rejectedCount).toBeLessThan(950);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
