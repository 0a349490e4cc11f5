/*
 * Passes driven by named changes re-plan only what depends on them, and must always end in the
 * same datapath a full pass over the same objects would give.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { inCluster } from '../../../pkg/model/index.js';
import { Reconciler, type ReconcileResult } from '../../../pkg/reconciler/index.js';
import { ep, namespace, node, POD, seedEndpoints, seedNodes, service, slice } from '../planner/fixtures.js';
import { seededRandom } from '../../bench/synthetic-cluster.js';
import { FakeSource, RecordingWriter, silent } from './fakes.js';

const HELLO = '10.96.0.100:5000/TCP';
const OTHER = '10.96.0.101:5000/TCP';

const running: Reconciler[] = [];
afterEach(() => {
  for (const r of running.splice(0)) r.stop();
});

function setup(objects: unknown[], nodeName = 'w1') {
  const source = new FakeSource(objects);
  const writer = new RecordingWriter();
  const reconciler = new Reconciler({ source, writer, nodeName, resyncMs: 0 }, silent);
  running.push(reconciler);
  return { source, writer, reconciler };
}

async function pass(reconciler: Reconciler): Promise<ReconcileResult> {
  const result = await reconciler.reconcileNow('test');
  if (!result?.completed) throw new Error(`pass did not complete: ${result?.message}`);
  return result;
}

function base(): unknown[] {
  return [
    ...seedNodes(),
    service('helloworld', { trafficDistribution: 'PreferClose' }),
    slice('helloworld-abc', { service: 'helloworld', endpoints: seedEndpoints() }),
    service('other', { clusterIP: '10.96.0.101' }),
    slice('other-abc', { service: 'other', endpoints: [ep(POD.w2, 'w2')] }),
    service('far', { clusterIP: '10.96.0.102', trafficDistribution: 'PreferClose' }),
    slice('far-abc', { service: 'far', endpoints: [ep(POD.w1, 'w1')] }),
  ];
}

/** Programmed state as comparable text: per key, mode and sorted addresses per tier. */
function programmedText(writer: RecordingWriter): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, p] of [...writer.state].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out[key] = `${p.mode} ${p.tiers
      .map((t) =>
        t
          .map((b) => `${b.address}:${b.port}${b.terminating ? 'T' : ''}`)
          .sort()
          .join(','),
      )
      .join(' | ')}`;
  }
  return out;
}

describe('incremental passes', () => {
  it('re-plans only the Service whose slice changed', async () => {
    const { source, writer, reconciler } = setup(base());
    expect((await pass(reconciler)).full).toBe(true);
    writer.resetCalls();
    source.upsert(slice('other-abc', { service: 'other', endpoints: [ep(POD.w2, 'w2'), ep(POD.w3, 'w3')] }));
    const result = await pass(reconciler);
    expect(result.full).toBe(false);
    expect(result.replanned).toBe(1);
    expect(writer.calls).toEqual([{ op: 'apply', keys: [OTHER] }]);
    expect(result.desired).toBe(3);
    expect(result.unchanged).toBe(2);
  });

  it('re-plans the Services with endpoints on a relabelled node, and only those', async () => {
    const { source, writer, reconciler } = setup(base());
    await pass(reconciler);
    writer.resetCalls();
    // w3 moves into w1's subzone: helloworld (which has a pod on w3) re-ranks; far does not.
    source.upsert(node('w3', { region: 'r', zone: 'z1', subzone: 's1' }));
    const result = await pass(reconciler);
    expect(result.replanned).toBe(1);
    expect(writer.touched()).toEqual([HELLO]);
    expect(
      writer.state
        .get(HELLO)!
        .tiers[0]!.map((b) => b.address)
        .sort(),
    ).toEqual([POD.w1, POD.w3]);
  });

  it("re-ranks a Service's remote endpoints when their remote Node is relabelled", async () => {
    // Both endpoints start in r/z2, as near as each other; the remote node then moves into w1's zone.
    const remoteNode = (zone: string): unknown => node('w1', { region: 'r', zone });
    const local = [
      node('w1', { region: 'r', zone: 'z1' }),
      node('w2', { region: 'r', zone: 'z2' }),
      service('helloworld', { trafficDistribution: 'PreferClose' }),
      slice('hw', { service: 'helloworld', endpoints: [ep(POD.w2, 'w2')] }),
    ];
    const remoteSlice = slice('hw', { service: 'helloworld', endpoints: [ep(POD.w3, 'w1')] });
    const { source, writer, reconciler } = setup([...local, inCluster('c2', [remoteNode('z2'), remoteSlice])]);
    await pass(reconciler);
    expect(
      writer.state
        .get(HELLO)!
        .tiers.find((t) => t.length > 0)!
        .map((b) => b.address)
        .sort(),
    ).toEqual([POD.w2, POD.w3]);
    const relabelled = remoteNode('z1');
    source.replace([...local, inCluster('c2', [relabelled, remoteSlice])]);
    source.emit([{ kind: 'Node', name: 'w1', cluster: 'c2', object: relabelled }]);
    const result = await pass(reconciler);
    expect(result.full).toBe(false);
    expect(writer.state.get(HELLO)!.tiers[0]!.map((b) => b.address)).toEqual([POD.w3]);
  });

  it('re-plans every Service when this node is relabelled', async () => {
    const { source, reconciler } = setup(base());
    await pass(reconciler);
    source.upsert(node('w1', { region: 'r', zone: 'z2', subzone: 's3' }));
    const result = await pass(reconciler);
    expect(result.full).toBe(false);
    expect(result.replanned).toBe(3);
  });

  it('follows a namespace annotation to the Services in that namespace', async () => {
    const { source, writer, reconciler } = setup([...base(), namespace('sample')]);
    await pass(reconciler);
    writer.resetCalls();
    source.upsert(namespace('sample', { 'networking.istio.io/traffic-distribution': 'PreferClose' }));
    const result = await pass(reconciler);
    expect(result.replanned).toBe(3);
    // Only "other" had no policy of its own, so only it changes mode.
    expect(writer.touched()).toEqual([OTHER]);
    expect(writer.state.get(OTHER)!.mode).toBe('FAILOVER');
  });

  it('removes the datapath service of a deleted Service, and a slice deletion empties it', async () => {
    const { source, writer, reconciler } = setup(base());
    await pass(reconciler);
    source.remove('EndpointSlice', 'sample/far-abc');
    await pass(reconciler);
    expect(writer.state.get('10.96.0.102:5000/TCP')!.tiers.every((t) => t.length === 0)).toBe(true);
    source.remove('Service', 'sample/far');
    const result = await pass(reconciler);
    expect(result.removed).toBe(1);
    expect(writer.state.has('10.96.0.102:5000/TCP')).toBe(false);
  });

  it('removes a programmed Service once it is labelled for another proxy, and takes it back when the label goes', async () => {
    const { source, writer, reconciler } = setup(base());
    await pass(reconciler);
    expect(writer.state.has(OTHER)).toBe(true);
    source.upsert(service('other', { clusterIP: '10.96.0.101', labels: { 'service.kubernetes.io/service-proxy-name': 'cilium' } }));
    const result = await pass(reconciler);
    expect(result.removed).toBe(1);
    expect(writer.state.has(OTHER)).toBe(false);
    expect(writer.state.has(HELLO)).toBe(true);
    source.upsert(service('other', { clusterIP: '10.96.0.101' }));
    await pass(reconciler);
    expect(writer.state.has(OTHER)).toBe(true);
  });

  it('hands a contested VIP to the next claimant when its owner goes', async () => {
    const { source, writer, reconciler } = setup([...base(), service('aaa', { clusterIP: '10.96.0.101' })]);
    const first = await pass(reconciler);
    expect(first.failures.map((f) => [f.service, f.code])).toEqual([['sample/other', 'vip-conflict']]);
    expect(writer.state.get(OTHER)!.tiers.flat()).toEqual([]);
    source.remove('Service', 'sample/aaa');
    const result = await pass(reconciler);
    expect(result.failures).toEqual([]);
    expect(
      writer.state
        .get(OTHER)!
        .tiers.flat()
        .map((b) => b.address),
    ).toEqual([POD.w2]);
  });

  it('ends where a full pass ends, over 300 random changes', async () => {
    const random = seededRandom(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const nodes = ['w1', 'w2', 'w3', 'w4'];
    const places = [
      { region: 'r', zone: 'z1', subzone: 's1' },
      { region: 'r', zone: 'z1', subzone: 's2' },
      { region: 'r', zone: 'z2', subzone: 's3' },
      { region: 'q', zone: 'z9', subzone: 's9' },
    ];
    const policies = [
      {},
      { trafficDistribution: 'PreferClose' },
      { internalTrafficPolicy: 'Local' },
      { trafficDistribution: 'PreferSameZone' },
    ];
    const services = ['a', 'b', 'c', 'd', 'e'];
    const vip = (s: string): string => `10.96.1.${services.indexOf(s) + 1}`;
    const randomSlice = (s: string, n: number): unknown =>
      slice(`${s}-${n}`, {
        service: s,
        endpoints: Array.from({ length: Math.floor(random() * 4) }, () => {
          const on = pick(nodes);
          return ep(`10.244.${nodes.indexOf(on) + 1}.${1 + Math.floor(random() * 20)}`, on, {
            ready: random() > 0.2,
            serving: true,
            terminating: random() > 0.8,
          });
        }),
      });

    const initial: unknown[] = [
      ...nodes.map((n) => node(n, pick(places))),
      ...services.map((s) => service(s, { clusterIP: vip(s), ...pick(policies) })),
      ...services.map((s) => randomSlice(s, 0)),
    ];
    const { source, writer, reconciler } = setup(initial);
    await pass(reconciler);

    for (let step = 0; step < 300; step++) {
      const roll = random();
      if (roll < 0.45) source.upsert(randomSlice(pick(services), Math.floor(random() * 2)));
      else if (roll < 0.55) source.remove('EndpointSlice', `sample/${pick(services)}-${Math.floor(random() * 2)}`);
      else if (roll < 0.75) source.upsert(node(pick(nodes), pick(places)));
      else if (roll < 0.8) source.remove('Node', pick(nodes));
      else if (roll < 0.92) {
        const s = pick(services);
        // Sometimes two Services claim one VIP, as a manifest directory can make them.
        source.upsert(service(s, { clusterIP: random() > 0.9 ? vip(pick(services)) : vip(s), ...pick(policies) }));
      } else source.remove('Service', `sample/${pick(services)}`);
      const result = await pass(reconciler);
      expect(result.full).toBe(false);

      const fresh = setup(source.objects() as unknown[]);
      await pass(fresh.reconciler);
      expect(programmedText(writer), `after step ${step}`).toEqual(programmedText(fresh.writer));
      expect(result.failures.map((f) => `${f.service} ${f.key} ${f.code}`).sort()).toEqual(
        fresh.reconciler
          .lastResult()!
          .failures.map((f) => `${f.service} ${f.key} ${f.code}`)
          .sort(),
      );
      fresh.reconciler.stop();
    }
  });
});
