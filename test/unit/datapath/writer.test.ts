// The real ServiceWriter on in-memory maps, with a fault injected at every single operation of
// an apply, a remove and a bulk load in turn: what fails before the service entry changes is
// undone to the byte, what fails after leaves only unreachable leftovers, and the record the
// writer keeps always says what a connect resolves. Drift repair is checked the same way.
import { describe, expect, it } from 'vitest';
import {
  type BackendSpec,
  DatapathError,
  type DatapathMaps,
  MapFullError,
  memoryMaps,
  type ModeName,
  readSnapshot,
  serviceKeyText,
  type ServiceSpec,
  ServiceWriter,
  svcKey,
} from '../../../pkg/datapath/index.js';
import { backendId, backendValue, slotKey, svcValue } from '../../../pkg/datapath/codecs.js';
import { keyAt, valueAt } from '../../../pkg/datapath/map-dump.js';
import { Faults, faultyMaps } from './faulty-map.js';
import { resolveAll, shapeOfProgrammed, shapeOfSpec } from './resolve.js';
import { SIZES } from './writer-fixture.js';

const be = (last: number, terminating = false): BackendSpec => ({
  address: `10.244.0.${last}`,
  port: 8080,
  nodeId: 1 + (last % 3),
  terminating,
});
const spec = (vip: string, mode: ModeName, tiers: BackendSpec[][], port = 80): ServiceSpec => ({
  key: { address: vip, port, protocol: 'TCP' },
  label: `test/${vip}`,
  mode,
  tiers,
});

const OLD = spec('10.96.0.1', 'FAILOVER', [[be(1), be(2)], [be(3)]]);
// Departures, arrivals, a flag change on a backend shared with BYSTANDER, and a new tier.
const NEW = spec('10.96.0.1', 'FAILOVER', [[be(2), be(4)], [be(3, true)], [be(5)]]);
const BYSTANDER = spec('10.96.0.2', 'RANDOM', [[be(3), be(6)]]);
const KEY = serviceKeyText(OLD.key);

function node(sizes = SIZES) {
  const memory = memoryMaps(sizes);
  const faults = new Faults(1);
  const maps = faultyMaps(memory, faults);
  return { memory, faults, maps, writer: ServiceWriter.open(maps) };
}

/** Every entry of the maps a connect reads, as sorted hex: equal means equal to the byte. */
function bytes(maps: DatapathMaps): string[] {
  const { services, slots, backends } = readSnapshot(maps);
  return [services, slots, backends]
    .flatMap((d) => Array.from({ length: d.count }, (_, i) => `${keyAt(d, i).toString('hex')}=${valueAt(d, i).toString('hex')}`))
    .sort();
}

/** The operations a fault-free run of `step` makes, and the number of the one that publishes (the service entry). */
function operations(
  prepare: (w: ServiceWriter) => void,
  step: (w: ServiceWriter) => void,
  commit: (op: { map: string; call: string }) => boolean,
) {
  const n = node();
  prepare(n.writer);
  n.faults.arm({});
  step(n.writer);
  const log = [...n.faults.log];
  return { count: log.length, commit: log.findIndex(commit) + 1, after: bytes(n.memory) };
}

describe('ServiceWriter.apply', () => {
  const prepare = (w: ServiceWriter): void => {
    w.apply(OLD);
    w.apply(BYSTANDER);
  };
  const reference = operations(
    prepare,
    (w) => w.apply(NEW),
    (op) => op.map === 'services' && op.call === 'bpf_map_update_elem',
  );

  it('makes the writes a fault-free update needs, publishing with the service entry last but for the cleanup', () => {
    expect(reference.count).toBeGreaterThan(6);
    expect(reference.commit).toBeGreaterThan(1);
    expect(reference.commit).toBeLessThan(reference.count);
  });

  for (let failAt = 1; failAt <= reference.count; failAt++) {
    it(`leaves the service old or new, never a mix, when operation ${failAt} fails`, () => {
      const { memory, faults, writer } = node();
      prepare(writer);
      const before = bytes(memory);
      const bystander = resolveAll(memory).get(serviceKeyText(BYSTANDER.key));
      faults.arm({ failAt: [failAt] });
      expect(() => writer.apply(NEW)).toThrow(DatapathError);
      const now = resolveAll(memory);
      expect(now.get(serviceKeyText(BYSTANDER.key))).toEqual(bystander);
      if (failAt <= reference.commit) {
        // Undone to the byte; the record still says OLD.
        expect(bytes(memory)).toEqual(before);
        expect(now.get(KEY)).toEqual(shapeOfSpec(OLD));
        expect(writer.matches(OLD)).toBe(true);
        expect(shapeOfProgrammed(writer.get(OLD.key)!)).toEqual(shapeOfSpec(OLD));
      } else {
        // Published; a cleanup delete failed and left an unreachable leftover, which drift repair collects.
        expect(now.get(KEY)).toEqual(shapeOfSpec(NEW));
        expect(writer.matches(NEW)).toBe(true);
        faults.disarm();
        writer.repairDrift();
        expect(bytes(memory)).toEqual(reference.after);
      }
      expect(writer.incompleteUndos).toBe(0);
      // Whatever happened, the next apply gets it right.
      faults.disarm();
      writer.apply(NEW);
      expect(resolveAll(memory).get(KEY)).toEqual(shapeOfSpec(NEW));
    });
  }

  it('counts an undo that could not finish, and leaves only backends the service had or gets', () => {
    const { memory, faults, writer } = node();
    prepare(writer);
    // The service entry write fails, and so does the first undo step.
    faults.arm({ failAt: [reference.commit, reference.commit + 1] });
    expect(() => writer.apply(NEW)).toThrow(DatapathError);
    expect(writer.incompleteUndos).toBe(1);
    const now = resolveAll(memory).get(KEY)!;
    expect(now.holes).toBe(0);
    const allowed = (t: number) => new Set([...shapeOfSpec(OLD).tiers[t]!, ...shapeOfSpec(NEW).tiers[t]!]);
    now.tiers.forEach((tier, t) =>
      expect(
        tier.every((e) => allowed(t).has(e)),
        `tier ${t}: ${tier.join(',')}`,
      ).toBe(true),
    );
    faults.disarm();
    writer.repairDrift();
    expect(resolveAll(memory).get(KEY)).toEqual(shapeOfSpec(OLD));
  });

  it('keeps the label, totals and node ids it wrote', () => {
    const { writer } = node();
    writer.apply(OLD);
    writer.apply(BYSTANDER);
    expect(writer.label(OLD.key)).toBe('test/10.96.0.1');
    writer.relabel(OLD.key, 'sample/other');
    expect(writer.labelsById().get(writer.serviceId(OLD.key)!)).toBe('sample/other');
    expect(writer.totals()).toEqual({
      servicesByMode: { FAILOVER: 1, RANDOM: 1 },
      endpointsByModeTier: { FAILOVER: [2, 1, 0, 0, 0, 0, 0, 0], RANDOM: [2, 0, 0, 0, 0, 0, 0, 0] },
    });
    expect(writer.nodeIdOf('10.244.0.3', 8080)).toBe(1);
    writer.remove(BYSTANDER.key);
    expect(writer.totals().servicesByMode).toEqual({ FAILOVER: 1 });
  });
});

describe('ServiceWriter.remove', () => {
  const prepare = (w: ServiceWriter): void => {
    w.apply(OLD);
    w.apply(BYSTANDER);
  };
  // Committed once the last backend delete went through; only counters come after.
  const reference = operations(
    prepare,
    (w) => w.remove(OLD.key),
    (op) => op.map === 'counters',
  );

  for (let failAt = 1; failAt <= reference.count; failAt++) {
    it(`puts the service back, or finishes the removal, when operation ${failAt} fails`, () => {
      const { memory, faults, writer } = node();
      prepare(writer);
      const before = bytes(memory);
      faults.arm({ failAt: [failAt] });
      expect(() => writer.remove(OLD.key)).toThrow(DatapathError);
      const now = resolveAll(memory);
      expect(now.get(serviceKeyText(BYSTANDER.key))).toEqual(shapeOfSpec(BYSTANDER));
      if (failAt < reference.commit) {
        expect(bytes(memory)).toEqual(before);
        expect(writer.matches(OLD)).toBe(true);
        faults.disarm();
        expect(writer.remove(OLD.key)).toBe(true);
      } else {
        expect(now.has(KEY)).toBe(false);
        expect(writer.get(OLD.key)).toBeUndefined();
      }
      expect(writer.incompleteUndos).toBe(0);
      expect(resolveAll(memory).has(KEY)).toBe(false);
      // The shared backend stays; the others went with the service.
      expect(writer.nodeIdOf('10.244.0.3', 8080)).toBe(1);
      expect(writer.nodeIdOf('10.244.0.1', 8080)).toBeUndefined();
      expect(readSnapshot(memory).backends.count).toBe(2);
    });
  }
});

describe('ServiceWriter.applyMany', () => {
  const specs = [1, 2, 3, 4, 5].map((i) => spec(`10.96.1.${i}`, 'FAILOVER', [[be(i), be(i + 1)], [be(10)]]));

  it('writes new services in three batches: backends, slots, services', () => {
    const { faults, writer, memory } = node();
    faults.arm({});
    expect(writer.applyMany(specs).failed).toEqual([]);
    expect(faults.log.map((o) => `${o.map} ${o.call}`)).toEqual([
      'backends bpf_map_update_batch',
      'slots bpf_map_update_batch',
      'services bpf_map_update_batch',
    ]);
    for (const s of specs) expect(resolveAll(memory).get(serviceKeyText(s.key))).toEqual(shapeOfSpec(s));
  });

  for (const batch of [1, 2, 3]) {
    it(`undoes a refused batch ${batch} and applies each service alone, with ids never handed out`, () => {
      const { faults, writer, memory } = node();
      faults.arm({ failAt: [batch] });
      const result = writer.applyMany(specs);
      expect(result.failed).toEqual([]);
      expect(faults.log.filter((o) => o.call === 'bpf_map_update_elem').length).toBeGreaterThan(specs.length);
      expect(Math.min(...result.applied.map((s) => s.id))).toBeGreaterThan(specs.length);
      const resolved = resolveAll(memory);
      expect(resolved.size).toBe(specs.length);
      for (const s of specs) expect(resolved.get(serviceKeyText(s.key))).toEqual(shapeOfSpec(s));
      // Nothing the refused batch wrote is left.
      const snapshot = readSnapshot(memory);
      expect(snapshot.slots.count).toBe(specs.length * 3);
      expect(snapshot.backends.count).toBe(7);
    });
  }

  it('hands back each service as the writer then reports it, new backend ids wrapping past 2^32 - 1', () => {
    const memory = memoryMaps(SIZES);
    // A backend left by an earlier run: read back, its id is the last handed out, then swept.
    memory.backends.update(
      backendId.encode(0xfffffffd),
      backendValue.encode({ address: '10.244.9.9', port: 1, nodeId: 0, terminating: false }),
    );
    const writer = ServiceWriter.open(memory);
    const first = writer.apply(spec('10.96.3.1', 'FAILOVER', [[be(1)]]));
    expect(first.tiers[0]![0]!.id).toBe(0xfffffffe);
    const bulk = [spec('10.96.3.2', 'FAILOVER', [[be(1), be(2, true)], [be(3)]]), spec('10.96.3.3', 'FAILOVER', [[be(3)], [be(4)]])];
    const result = writer.applyMany(bulk);
    expect(result.failed).toEqual([]);
    expect(result.applied.flatMap((p) => p.tiers.flat().map((b) => b.id))).toEqual([0xfffffffe, 0xffffffff, 1, 1, 2]);
    for (const p of result.applied) expect(p).toEqual(writer.get(p.key));
  });

  it('hands back each new service as the load programmed it, however late its tiers are read', () => {
    const { writer } = node();
    const result = writer.applyMany(specs);
    const atLoad = specs.map((s) => writer.get(s.key));
    // A later change to a backend the loaded services share (be(10)): their result still says what the load wrote.
    writer.apply(spec('10.96.1.9', 'FAILOVER', [[{ ...be(10), nodeId: 9, terminating: true }]]));
    expect(writer.get(specs[0]!.key)!.tiers[1]![0]).toMatchObject({ nodeId: 9, terminating: true });
    expect(result.applied).toEqual(atLoad);
    expect(result.applied[0]!.tiers[1]![0]).toMatchObject({ address: '10.244.0.10', nodeId: be(10).nodeId, terminating: false });
  });

  it('names the one service that does not fit and programs the rest', () => {
    const { writer, memory } = node({ services: 8, backends: 16, slots: 24, revNat: 16, counters: 64 });
    const many = [2001, 2002, 2003, 2004, 2005, 2006, 2007].map((port) =>
      spec('10.96.2.1', 'FAILOVER', [[be(1), be(2), be(3), be(4)]], port),
    );
    const result = writer.applyMany(many); // 28 slots wanted, 24 fit
    expect(result.applied).toHaveLength(6);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]!.error).toBeInstanceOf(MapFullError);
    expect(result.failed[0]!.error.message).toContain(':2007/TCP');
    expect(resolveAll(memory).size).toBe(6);
  });
});

describe('ServiceWriter.repairDrift', () => {
  it('puts back what was changed behind its back, deletes strays, and leaves healthy services alone', () => {
    const { memory, writer } = node();
    writer.apply(OLD);
    writer.apply(BYSTANDER);
    const clean = bytes(memory);
    const id = writer.serviceId(OLD.key)!;
    memory.slots.delete(slotKey.encode({ svcId: id, tier: 0, index: 0 }));
    const shared = writer.get(BYSTANDER.key)!.tiers[0]![0]!;
    memory.backends.update(backendId.encode(shared.id), backendValue.encode({ ...shared, terminating: true }));
    const stray = svcKey.encode({ address: '10.96.9.9', port: 80, protocol: 'TCP' });
    memory.services.update(stray, svcValue.encode({ id: 900, mode: 'RANDOM', counts: [1], weights: [] }));
    memory.slots.update(slotKey.encode({ svcId: 900, tier: 0, index: 0 }), backendId.encode(shared.id));
    memory.slots.update(slotKey.encode({ svcId: id, tier: 1, index: 5 }), backendId.encode(shared.id));

    const report = writer.repairDrift();
    expect(report.drifted.sort()).toEqual([KEY, serviceKeyText(BYSTANDER.key)].sort());
    expect(report.strays).toEqual(['10.96.9.9:80/TCP']);
    expect(report.rewritten).toEqual({ services: 0, slots: 1, backends: 1 });
    expect(report.deleted).toMatchObject({ services: 1, slots: 2 });
    expect(bytes(memory)).toEqual(clean);
    const quiet = memory.services.ops.writes + memory.slots.ops.writes + memory.backends.ops.writes;
    expect(writer.repairDrift().drifted).toEqual([]);
    expect(memory.services.ops.writes + memory.slots.ops.writes + memory.backends.ops.writes).toBe(quiet);
  });

  it('leaves a service as the kernel has it when its repair fails, and repairs it on the next scan', () => {
    const { memory, faults, writer } = node();
    writer.apply(OLD);
    memory.services.delete(svcKey.encode(OLD.key));
    faults.arm({ failAt: [4] }); // three dumps, then the entry write
    const report = writer.repairDrift();
    expect(report.failed.map((f) => f.service)).toEqual([KEY]);
    expect(resolveAll(memory).has(KEY)).toBe(false);
    faults.disarm();
    expect(writer.repairDrift().failed).toEqual([]);
    expect(resolveAll(memory).get(KEY)).toEqual(shapeOfSpec(OLD));
  });
});

describe('ServiceWriter.open', () => {
  it('reads back what an earlier writer programmed and collects what it left, as an explicit step', () => {
    const memory = memoryMaps(SIZES);
    const first = ServiceWriter.open(memory);
    first.apply(OLD);
    first.apply(BYSTANDER);
    memory.slots.update(slotKey.encode({ svcId: 999, tier: 0, index: 0 }), backendId.encode(1));
    memory.backends.update(backendId.encode(777), backendValue.encode({ address: '10.244.9.9', port: 1, nodeId: 0, terminating: false }));
    const reopened = ServiceWriter.open(memory);
    expect(reopened.readBack).toEqual({ services: 2, backends: 4, holes: 0, collected: 2 });
    expect(reopened.programmed()).toEqual(first.programmed());
    expect(reopened.matches(OLD)).toBe(true);
    // A label is the agent's own: a restarted writer has none until the reconciler gives one.
    expect(reopened.label(OLD.key)).toBe('');
  });
});
