import { afterEach, describe, expect, it } from 'vitest';
import { backendValue, svcValue } from '../../../pkg/datapath/codecs.js';
import { keyAt, serviceKeyText, svcKey, valueAt } from '../../../pkg/datapath/index.js';
import { Reconciler, type ReconcileResult } from '../../../pkg/reconciler/index.js';
import { node, POD, seedEndpoints, seedNodes, service, slice, ep } from '../planner/fixtures.js';
import { FakeSource, RecordingWriter, silent } from './fakes.js';

const HELLO = '10.96.0.100:5000/TCP';
const OTHER = '10.96.0.101:5000/TCP';
const HELLO2 = '10.96.0.102:5000/TCP';

/** Seed 000 plus a second PreferClose Service and a policy-free one, all on the seed pods. */
function cluster(
  overrides: { nodes?: unknown[]; otherEndpoints?: Array<ReturnType<typeof ep>>; extra?: unknown[]; without?: string[] } = {},
): unknown[] {
  const objects: Array<[string, unknown]> = [
    ['nodes', overrides.nodes ?? seedNodes()],
    ['helloworld', service('helloworld', { trafficDistribution: 'PreferClose' })],
    ['helloworld-slice', slice('helloworld-abc', { service: 'helloworld', endpoints: seedEndpoints() })],
    ['hello2', service('hello2', { clusterIP: '10.96.0.102', trafficDistribution: 'PreferClose' })],
    ['hello2-slice', slice('hello2-abc', { service: 'hello2', endpoints: seedEndpoints() })],
    ['other', service('other', { clusterIP: '10.96.0.101' })],
    ['other-slice', slice('other-abc', { service: 'other', endpoints: overrides.otherEndpoints ?? [ep(POD.w2, 'w2')] })],
  ];
  const kept = objects
    .filter(([name]) => !(overrides.without ?? []).includes(name))
    .flatMap(([, o]): unknown[] => (Array.isArray(o) ? o : [o]));
  return [...kept, ...(overrides.extra ?? [])];
}

function tierAddresses(writer: RecordingWriter, key: string): string[][] {
  const programmed = writer.state.get(key);
  if (!programmed) throw new Error(`${key} is not programmed`);
  return programmed.tiers.map((t) => t.map((b) => b.address).sort()).filter((_, i, all) => all.slice(i).some((t) => t.length > 0));
}

const running: Reconciler[] = [];

function setup(objects: unknown[], options: { debounceMs?: number; resyncMs?: number } = {}) {
  const source = new FakeSource(objects);
  const writer = new RecordingWriter();
  const reconciler = new Reconciler(
    { source, writer, nodeName: 'w1', debounceMs: options.debounceMs ?? 5, resyncMs: options.resyncMs ?? 0 },
    silent,
  );
  running.push(reconciler);
  return { source, writer, reconciler };
}

async function pass(reconciler: Reconciler): Promise<ReconcileResult> {
  const result = await reconciler.reconcileNow('test');
  if (!result) throw new Error('no result');
  return result;
}

afterEach(() => {
  for (const r of running.splice(0)) r.stop();
});

describe('reconciler', () => {
  it('programs everything through one applyMany on the first pass, closest tier first', async () => {
    const { writer, reconciler } = setup(cluster());
    const result = await pass(reconciler);
    expect(result.completed).toBe(true);
    expect(writer.calls.map((c) => c.op)).toEqual(['applyMany']);
    expect(writer.touched('applyMany').sort()).toEqual([HELLO, OTHER, HELLO2].sort());
    expect(tierAddresses(writer, HELLO)).toEqual([[POD.w1], [POD.w2], [POD.w3]]);
    expect(writer.state.get(HELLO)?.mode).toBe('FAILOVER');
    expect(writer.state.get(OTHER)?.mode).toBe('RANDOM');
    expect(result).toMatchObject({ desired: 3, applied: 3, removed: 0, failures: [] });
    expect(result.servicesByMode).toEqual({ FAILOVER: 2, RANDOM: 1 });
    expect(result.endpointsByModeTier.FAILOVER?.slice(0, 3)).toEqual([2, 2, 2]);
    expect(result.mapWrites).toMatchObject({ services: 3, backends: 3 });
    // Each node gets its own stable id, and the label names the Service.
    const ids = writer.state
      .get(HELLO)!
      .tiers.slice(0, 3)
      .map((t) => t[0]!.nodeId);
    expect(new Set(ids).size).toBe(3);
    expect(ids).not.toContain(0);
    expect(writer.label({ address: '10.96.0.100', port: 5000, protocol: 'TCP' })).toBe('sample/helloworld');
  });

  it('writes nothing when nothing changed', async () => {
    const { writer, reconciler } = setup(cluster());
    await pass(reconciler);
    writer.resetCalls();
    const result = await pass(reconciler);
    expect(writer.calls).toEqual([]);
    expect(result).toMatchObject({ applied: 0, removed: 0, unchanged: 3 });
  });

  it('re-applies only the Service whose EndpointSlice changed', async () => {
    const { source, writer, reconciler } = setup(cluster());
    await pass(reconciler);
    writer.resetCalls();
    source.set(cluster({ otherEndpoints: [ep(POD.w2, 'w2'), ep(POD.w3, 'w3')] }));
    const result = await pass(reconciler);
    expect(writer.calls).toEqual([{ op: 'apply', keys: [OTHER] }]);
    expect(tierAddresses(writer, OTHER)).toEqual([[POD.w2, POD.w3]]);
    expect(result.applied).toBe(1);
  });

  it('removes a deleted Service', async () => {
    const { source, writer, reconciler } = setup(cluster());
    await pass(reconciler);
    writer.resetCalls();
    source.set(cluster({ without: ['other', 'other-slice'] }));
    const result = await pass(reconciler);
    expect(writer.calls).toEqual([{ op: 'remove', keys: [OTHER] }]);
    expect(writer.state.has(OTHER)).toBe(false);
    expect(result.removed).toBe(1);
  });

  it('re-ranks every affected Service when a node is relabelled, and leaves the rest alone', async () => {
    const { source, writer, reconciler } = setup(cluster());
    await pass(reconciler);
    writer.resetCalls();
    const relabelled = [...seedNodes().slice(0, 2), node('w3', { region: 'r', zone: 'z1', subzone: 's2' })];
    source.set(cluster({ nodes: relabelled }));
    await pass(reconciler);
    expect(writer.touched('apply').sort()).toEqual([HELLO, HELLO2].sort());
    expect(writer.touched('remove')).toEqual([]);
    expect(tierAddresses(writer, HELLO)).toEqual([[POD.w1], [POD.w2, POD.w3]]);
    expect(tierAddresses(writer, HELLO2)).toEqual([[POD.w1], [POD.w2, POD.w3]]);
  });

  it('rejects and counts a bad object while programming the good ones', async () => {
    const bad = service('broken', { clusterIP: '10.96.0.999' });
    const { writer, reconciler } = setup(cluster({ extra: [bad] }));
    const result = await pass(reconciler);
    expect(result.rejected).toEqual({ 'bad-ip': 1 });
    expect([...writer.state.keys()].sort()).toEqual([HELLO, OTHER, HELLO2].sort());
  });

  it('counts planner warnings by reason', async () => {
    const odd = service('odd', { clusterIP: '10.96.0.103', trafficDistribution: 'PreferNowhere' });
    const { reconciler } = setup(cluster({ extra: [odd] }));
    const result = await pass(reconciler);
    expect(result.warnings['unknown-policy']).toBe(1);
  });

  it('keeps programming the others when one Service hits a full map, and retries it later', async () => {
    const { source, writer, reconciler } = setup(cluster());
    writer.full.add(HELLO);
    const first = await pass(reconciler);
    expect(first.completed).toBe(true);
    expect(first.failures).toEqual([expect.objectContaining({ service: 'sample/helloworld', key: HELLO, code: 'map-full', map: 'slots' })]);
    expect(first.mapErrors).toEqual({ slots: 1 });
    expect([...writer.state.keys()].sort()).toEqual([OTHER, HELLO2].sort());

    // Not first any more: a changed Service fails alone, the others still get their writes.
    source.set(cluster({ otherEndpoints: [ep(POD.w3, 'w3')] }));
    const second = await pass(reconciler);
    expect(second.failures.map((f) => f.key)).toEqual([HELLO]);
    expect(tierAddresses(writer, OTHER)).toEqual([[POD.w3]]);

    writer.full.clear();
    const third = await pass(reconciler);
    expect(third.failures).toEqual([]);
    expect(tierAddresses(writer, HELLO)).toEqual([[POD.w1], [POD.w2], [POD.w3]]);
  });

  it('reports a second Service claiming the same VIP and keeps the first', async () => {
    const twin = service('twin', { clusterIP: '10.96.0.100' });
    const { writer, reconciler } = setup(cluster({ extra: [twin] }));
    const result = await pass(reconciler);
    expect(result.failures).toEqual([expect.objectContaining({ service: 'sample/twin', code: 'vip-conflict', key: HELLO })]);
    expect(writer.state.get(HELLO)?.mode).toBe('FAILOVER');
  });

  it('folds a burst of 20 change signals into at most 2 passes', async () => {
    const { source, reconciler } = setup(cluster(), { debounceMs: 20 });
    reconciler.start();
    await reconciler.idle();
    const before = reconciler.passes;
    for (let i = 0; i < 10; i++) source.emit();
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 10; i++) source.emit();
    await reconciler.idle();
    const passes = reconciler.passes - before;
    expect(passes).toBeGreaterThanOrEqual(1);
    expect(passes).toBeLessThanOrEqual(2);
  });

  it('runs one more pass for a change that arrives during a pass', async () => {
    const { source, writer, reconciler } = setup(cluster(), { debounceMs: 5 });
    reconciler.start();
    await reconciler.idle();
    // The writer signals a change from inside the next pass, as a watch event racing it would.
    const original = writer.apply.bind(writer);
    let injected = false;
    writer.apply = (spec) => {
      if (!injected) {
        injected = true;
        source.set(cluster({ otherEndpoints: [ep(POD.w1, 'w1')] }));
      }
      return original(spec);
    };
    const before = reconciler.passes;
    source.set(cluster({ otherEndpoints: [ep(POD.w3, 'w3')] }));
    await reconciler.idle();
    expect(reconciler.passes - before).toBe(2);
    expect(tierAddresses(writer, OTHER)).toEqual([[POD.w1]]);
  });

  it('repairs drift on the periodic resync without any change signal', async () => {
    const { writer, reconciler } = setup(cluster(), { resyncMs: 30 });
    reconciler.start();
    await reconciler.idle();
    expect(writer.state.size).toBe(3);
    // Behind the reconciler's back, in the maps: one service vanishes, another loses its closest tier.
    const entry = (key: string) => svcKey.encode(writer.keyOf(key)!);
    writer.maps.services.delete(entry(HELLO));
    const hello2 = svcValue.decode(writer.maps.services.lookup(entry(HELLO2))!);
    writer.maps.services.update(entry(HELLO2), svcValue.encode({ ...hello2, counts: hello2.counts.map((c, i) => (i === 0 ? 0 : c)) }));
    expect(writer.state.has(HELLO)).toBe(false);
    expect(writer.state.get(HELLO2)!.tiers[0]).toEqual([]);
    writer.resetCalls();
    await new Promise((resolve) => setTimeout(resolve, 120));
    await reconciler.idle();
    expect(writer.touched().sort()).toEqual([HELLO, HELLO2].sort());
    expect(tierAddresses(writer, HELLO)).toEqual([[POD.w1], [POD.w2], [POD.w3]]);
    expect(tierAddresses(writer, HELLO2)).toEqual([[POD.w1], [POD.w2], [POD.w3]]);
    expect(reconciler.lastResult()?.trigger).toContain('resync');
  });

  it('writes nothing until the source has synced, so a restart never wipes the datapath', async () => {
    const { source, writer, reconciler } = setup([]);
    writer.applyMany([
      { key: { address: '10.96.0.100', port: 5000, protocol: 'TCP' }, label: 'sample/helloworld', mode: 'RANDOM', tiers: [[]] },
    ]);
    writer.resetCalls();
    source.synced = false;
    const waiting = await pass(reconciler);
    expect(waiting.completed).toBe(false);
    expect(waiting.message).toMatch(/waiting for the source/);
    expect(writer.calls).toEqual([]);
    expect(reconciler.lastCompletedResult()).toBeUndefined();

    source.synced = true;
    source.set(cluster());
    const done = await pass(reconciler);
    expect(done.completed).toBe(true);
    expect(writer.touched('apply')).toEqual([HELLO]);
    expect(tierAddresses(writer, HELLO)).toEqual([[POD.w1], [POD.w2], [POD.w3]]);
  });

  it('keeps node ids found in the pinned state across an agent restart', async () => {
    const first = setup(cluster());
    await pass(first.reconciler);
    // An earlier agent numbered the nodes differently; without adoption every backend would be
    // rewritten just to renumber its node.
    const backends = first.writer.maps.backends.dump();
    for (let i = 0; i < backends.count; i++) {
      const value = backendValue.decode(valueAt(backends, i));
      first.writer.maps.backends.update(keyAt(backends, i), backendValue.encode({ ...value, nodeId: value.nodeId + 40 }));
    }
    // A new agent over the same maps: a writer that reads them back, a fresh reconciler.
    const writer = first.writer.reopen();
    const restarted = new Reconciler({ source: first.source, writer, nodeName: 'w1', resyncMs: 0 }, silent);
    running.push(restarted);
    const result = await pass(restarted);
    expect(writer.calls).toEqual([]);
    expect(result.unchanged).toBe(3);
    expect(writer.state.get(HELLO)!.tiers[0]![0]!.nodeId).toBeGreaterThan(40);
  });

  it('names its keys the way the writer does', () => {
    expect(serviceKeyText({ address: 'fd00::0:1', port: 80, protocol: 'UDP' })).toBe('[fd00::1]:80/UDP');
  });
});
