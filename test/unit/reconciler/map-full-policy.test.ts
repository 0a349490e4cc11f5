// When a map is full, the choice of who loses is deliberate (docs/troubleshooting.md, "A map is
// full"): Services already programmed keep their entries and get room for their changes first;
// new Services wait, the ones that waited longest first, and are written once there is room.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBpfMap, memoryMaps } from '../../../pkg/datapath/index.js';
import { Reconciler, type ReconcileResult } from '../../../pkg/reconciler/index.js';
import { ep, POD, seedEndpoints, seedNodes, service, slice } from '../planner/fixtures.js';
import { FakeSource, RecordingWriter, silent } from './fakes.js';

const OTHER = '10.96.0.101:5000/TCP';
const NEWCOMER = '10.96.0.103:5000/TCP';
const LATER = '10.96.0.104:5000/TCP';

function cluster(otherEndpoints: string[], extra: string[] = []): unknown[] {
  const added = extra.flatMap((name, i) => [
    service(name, { clusterIP: `10.96.0.${103 + i}` }),
    slice(`${name}-abc`, { service: name, endpoints: [ep(POD.w1, 'w1')] }),
  ]);
  return [
    ...seedNodes(),
    service('helloworld', { trafficDistribution: 'PreferClose' }),
    slice('helloworld-abc', { service: 'helloworld', endpoints: seedEndpoints() }),
    service('other', { clusterIP: '10.96.0.101' }),
    slice('other-abc', { service: 'other', endpoints: otherEndpoints.map((a) => ep(a, 'w2')) }),
    ...added,
  ];
}

const running: Reconciler[] = [];
afterEach(() => {
  for (const r of running.splice(0)) r.stop();
});

async function pass(reconciler: Reconciler): Promise<ReconcileResult> {
  const result = await reconciler.reconcileNow('test');
  if (!result) throw new Error('no result');
  return result;
}

function slotsIn(writer: RecordingWriter): number {
  const slots = writer.maps.slots;
  if (!(slots instanceof MemoryBpfMap)) throw new Error('expected in-memory maps');
  return slots.size;
}

/** A node whose slots map has room for what `objects` needs plus `spare` entries. */
async function nodeWithRoom(objects: unknown[], spare: number) {
  const probe = new RecordingWriter();
  const probing = new Reconciler({ source: new FakeSource(objects), writer: probe, nodeName: 'w1', debounceMs: 5, resyncMs: 0 }, silent);
  running.push(probing);
  await pass(probing);
  const writer = new RecordingWriter(memoryMaps({ slots: slotsIn(probe) + spare }));
  const source = new FakeSource(objects);
  const reconciler = new Reconciler({ source, writer, nodeName: 'w1', debounceMs: 5, resyncMs: 0 }, silent);
  running.push(reconciler);
  expect((await pass(reconciler)).failures).toEqual([]);
  return { source, writer, reconciler };
}

describe('a full map', () => {
  it('leaves room to the programmed Service that grows; the new one waits', async () => {
    const { source, writer, reconciler } = await nodeWithRoom(cluster([POD.w2]), 1);
    // One spare slot, two claims in the same pass: `other` grows by an endpoint, `newcomer` arrives.
    source.set(cluster([POD.w2, POD.w3], ['newcomer']));
    const result = await pass(reconciler);
    expect(result.failures).toEqual([
      expect.objectContaining({ service: 'sample/newcomer', key: NEWCOMER, code: 'map-full', map: 'slots' }),
    ]);
    expect(
      writer.state
        .get(OTHER)
        ?.tiers.flat()
        .map((b) => b.address)
        .sort(),
    ).toEqual([POD.w2, POD.w3]);
    expect(writer.state.has(NEWCOMER)).toBe(false);

    // The first to wait is the first written when room comes back, whatever its name.
    source.set(cluster([POD.w2, POD.w3], ['newcomer', 'a-later-one']));
    expect((await pass(reconciler)).failures.map((f) => f.service).sort()).toEqual(['sample/a-later-one', 'sample/newcomer']);
    source.set(cluster([POD.w3], ['newcomer', 'a-later-one']));
    const freed = await pass(reconciler);
    expect(freed.failures.map((f) => f.service)).toEqual(['sample/a-later-one']);
    expect(writer.state.has(NEWCOMER)).toBe(true);
    expect(writer.state.has(LATER)).toBe(false);
  });
});
