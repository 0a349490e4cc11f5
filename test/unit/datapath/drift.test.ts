// Drift planning without a kernel: a mirror, a tampered copy of the maps, and the repairs the
// plan asks for. Every plan is replayed in the writer's order against a model of the maps, with
// a racing reader checking after each single write that no service got worse on the way.
import { describe, expect, it } from 'vitest';
import { type MirroredService, type MirrorView, planRepairs, type RepairPlan, type ServiceKey } from '../../../pkg/datapath/index.js';
import { backendId, backendValue, type BackendValue, slotKey, svcKey, svcValue } from '../../../pkg/datapath/codecs.js';
import { packEntries } from '../../../pkg/datapath/map-dump.js';

const KEY_A: ServiceKey = { address: '10.96.0.1', port: 80, protocol: 'TCP' };
const KEY_B: ServiceKey = { address: '10.96.0.2', port: 80, protocol: 'TCP' };
const KEY_STRAY: ServiceKey = { address: '10.96.0.9', port: 80, protocol: 'TCP' };
const pod = (last: number): BackendValue => ({ address: `10.244.0.${last}`, port: 8080, nodeId: 0, terminating: false });

/** The maps as hex key -> value, so a test can tamper with them like bpftool would. */
interface Maps {
  services: Map<string, Buffer>;
  slots: Map<string, Buffer>;
  backends: Map<string, Buffer>;
}

const hex = (b: Buffer): string => b.toString('hex');
const sk = (svcId: number, tier: number, index: number): string => hex(slotKey.encode({ svcId, tier, index }));
const bk = (id: number): string => hex(backendId.encode(id));
const ek = (k: ServiceKey): string => hex(svcKey.encode(k));

const BACKEND_IDS = [1, 2, 3];

function mirror(): MirrorView {
  const services: MirroredService[] = [
    { key: KEY_A, id: 1, mode: 'FAILOVER', weights: [0, 0, 0, 0, 0, 0, 0, 0], tiers: [[1, 2], [3], [], [], [], [], [], []] },
    { key: KEY_B, id: 2, mode: 'RANDOM', weights: [0, 0, 0, 0, 0, 0, 0, 0], tiers: [[3], [], [], [], [], [], [], []] },
  ];
  const backends = new Map(BACKEND_IDS.map((id) => [id, backendValue.encode(pod(10 + id))]));
  return { services, backendValue: (id) => backends.get(id) };
}

/** The maps exactly as the writer programmed the mirror. */
function programmed(m: MirrorView): Maps {
  const maps: Maps = { services: new Map(), slots: new Map(), backends: new Map() };
  for (const id of BACKEND_IDS) maps.backends.set(bk(id), m.backendValue(id)!);
  for (const s of m.services) {
    s.tiers.forEach((tier, t) => tier.forEach((b, i) => maps.slots.set(sk(s.id, t, i), backendId.encode(b))));
    const counts = s.tiers.map((t) => t.length);
    maps.services.set(hex(svcKey.encode(s.key)), svcValue.encode({ id: s.id, mode: s.mode, counts, weights: [...s.weights] }));
  }
  return maps;
}

const raw = (m: Map<string, Buffer>): Array<[Buffer, Buffer]> => [...m].map(([k, v]) => [Buffer.from(k, 'hex'), v]);
const snapshot = (maps: Maps) => ({
  services: packEntries(raw(maps.services), svcKey.size, svcValue.size),
  slots: packEntries(raw(maps.slots), slotKey.size, backendId.size),
  backends: packEntries(raw(maps.backends), backendId.size, backendValue.size),
});

/** What a connect to the service could reach: backend ids, or 'refused' if some slot is dead. */
function reachable(maps: Maps, key: ServiceKey): Set<number> | 'absent' | 'refused' {
  const entry = maps.services.get(ek(key));
  if (!entry) return 'absent';
  const v = svcValue.decode(entry);
  const out = new Set<number>();
  for (let t = 0; t < v.counts.length; t++) {
    for (let i = 0; i < v.counts[t]!; i++) {
      const slot = maps.slots.get(sk(v.id, t, i));
      if (!slot || !maps.backends.has(bk(backendId.decode(slot)))) return 'refused';
      out.add(backendId.decode(slot));
    }
  }
  return out;
}

/**
 * Applies the plan in the writer's order. After every single write, a service that could be
 * reached without refusal before the repair (or was absent) must still be, and end as mirrored.
 */
function replay(m: MirrorView, maps: Maps, plan: RepairPlan, failing = new Set<string>()): Maps {
  const keys = m.services.map((s) => s.key);
  const before = new Map(keys.map((k) => [ek(k), reachable(maps, k)]));
  const check = (): void => {
    for (const k of keys) {
      if (before.get(ek(k)) !== 'refused') expect(reachable(maps, k), `${k.address} mid-repair`).not.toBe('refused');
    }
  };
  const unrepaired = new Set<string>();
  for (const b of plan.backends) {
    maps.backends.set(hex(b.key), b.value);
    check();
  }
  for (const s of plan.services) {
    if (failing.has(s.service)) {
      unrepaired.add(s.service);
      continue;
    }
    for (const w of s.slots) {
      maps.slots.set(hex(w.key), backendId.encode(w.backend));
      check();
    }
    if (s.entry) maps.services.set(hex(s.entry.key), s.entry.value);
    check();
  }
  const dead = plan.deletions(unrepaired);
  for (const s of dead.services) maps.services.delete(hex(s.key));
  check();
  for (const k of dead.slots) {
    maps.slots.delete(hex(k));
    check();
  }
  for (const id of dead.backends) {
    maps.backends.delete(bk(id));
    check();
  }
  return maps;
}

function repaired(tamper: (maps: Maps) => void): { plan: RepairPlan; after: Maps } {
  const m = mirror();
  const maps = programmed(m);
  tamper(maps);
  const plan = planRepairs(m, snapshot(maps));
  return { plan, after: replay(m, maps, plan) };
}

const summary = (plan: RepairPlan) => {
  const d = plan.deletions();
  return {
    backends: plan.backends.map((b) => b.id),
    services: plan.services.map((s) => ({ service: s.service, slots: s.slots.length, entry: s.entry !== undefined, backends: s.backends })),
    deleted: { services: d.services.map((s) => s.service), slots: d.slots.length, counters: d.counters, backends: d.backends },
  };
};
const nothingDeleted = { services: [], slots: 0, counters: [], backends: [] };

describe('planRepairs', () => {
  it('plans nothing at all when the kernel holds what was programmed', () => {
    const { plan } = repaired(() => undefined);
    expect(summary(plan)).toEqual({ backends: [], services: [], deleted: nothingDeleted });
    expect(plan.holes).toBe(0);
  });

  const cases: Array<[string, (maps: Maps) => void, ReturnType<typeof summary>]> = [
    [
      'a deleted service entry is rewritten, its slots left alone',
      (maps) => maps.services.delete(ek(KEY_A)),
      { backends: [], services: [{ service: '10.96.0.1:80/TCP', slots: 0, entry: true, backends: [] }], deleted: nothingDeleted },
    ],
    [
      'an entry with another mode is rewritten',
      (maps) => {
        const v = svcValue.decode(maps.services.get(ek(KEY_A))!);
        maps.services.set(ek(KEY_A), svcValue.encode({ ...v, mode: 'STRICT' }));
      },
      { backends: [], services: [{ service: '10.96.0.1:80/TCP', slots: 0, entry: true, backends: [] }], deleted: nothingDeleted },
    ],
    [
      'an entry with a raised count is lowered before the slot past it goes',
      (maps) => {
        const v = svcValue.decode(maps.services.get(ek(KEY_A))!);
        maps.slots.set(sk(1, 1, 1), backendId.encode(1));
        maps.services.set(ek(KEY_A), svcValue.encode({ ...v, counts: [2, 2, 0, 0, 0, 0, 0, 0] }));
      },
      {
        backends: [],
        services: [{ service: '10.96.0.1:80/TCP', slots: 0, entry: true, backends: [] }],
        deleted: { ...nothingDeleted, slots: 1 },
      },
    ],
    [
      'a missing slot is rewritten, the entry left alone',
      (maps) => maps.slots.delete(sk(1, 0, 1)),
      { backends: [], services: [{ service: '10.96.0.1:80/TCP', slots: 1, entry: false, backends: [] }], deleted: nothingDeleted },
    ],
    [
      'a slot naming the wrong backend is rewritten',
      (maps) => maps.slots.set(sk(1, 0, 0), backendId.encode(3)),
      { backends: [], services: [{ service: '10.96.0.1:80/TCP', slots: 1, entry: false, backends: [] }], deleted: nothingDeleted },
    ],
    [
      'a corrupted backend is rewritten and every service naming it is named',
      (maps) => maps.backends.set(bk(3), backendValue.encode(pod(99))),
      {
        backends: [3],
        services: [
          { service: '10.96.0.1:80/TCP', slots: 0, entry: false, backends: [3] },
          { service: '10.96.0.2:80/TCP', slots: 0, entry: false, backends: [3] },
        ],
        deleted: nothingDeleted,
      },
    ],
    [
      'a deleted backend is written back before the slot that names it',
      (maps) => {
        maps.backends.delete(bk(2));
        maps.slots.delete(sk(1, 0, 1));
      },
      { backends: [2], services: [{ service: '10.96.0.1:80/TCP', slots: 1, entry: false, backends: [2] }], deleted: nothingDeleted },
    ],
    [
      'a service wiped out entirely (entry, slot, backend) comes back in order: backend, slot, entry',
      (maps) => {
        maps.services.delete(ek(KEY_A));
        maps.slots.delete(sk(1, 0, 0));
        maps.backends.delete(bk(1));
      },
      { backends: [1], services: [{ service: '10.96.0.1:80/TCP', slots: 1, entry: true, backends: [1] }], deleted: nothingDeleted },
    ],
    [
      'a stray service goes with its slots, counters and the backend only it named',
      (maps) => {
        maps.backends.set(bk(50), backendValue.encode(pod(50)));
        maps.slots.set(sk(40, 0, 0), backendId.encode(50));
        maps.slots.set(sk(40, 0, 1), backendId.encode(1));
        maps.services.set(ek(KEY_STRAY), svcValue.encode({ id: 40, mode: 'RANDOM', counts: [2], weights: [] }));
      },
      { backends: [], services: [], deleted: { services: ['10.96.0.9:80/TCP'], slots: 2, counters: [40], backends: [50] } },
    ],
    [
      "a stray entry reusing a programmed id goes alone: the slots and counters are that service's",
      (maps) => maps.services.set(ek(KEY_STRAY), svcValue.encode({ id: 2, mode: 'RANDOM', counts: [1], weights: [] })),
      { backends: [], services: [], deleted: { services: ['10.96.0.9:80/TCP'], slots: 0, counters: [], backends: [] } },
    ],
    [
      'slots nothing can reach and backends nothing names are deleted',
      (maps) => {
        maps.slots.set(sk(1, 0, 2), backendId.encode(1)); // past the live count
        maps.slots.set(sk(77, 0, 0), backendId.encode(1)); // of no service
        maps.slots.set(sk(1, 9, 0), backendId.encode(1)); // a tier no count reaches
        maps.backends.set(bk(60), backendValue.encode(pod(60)));
      },
      { backends: [], services: [], deleted: { ...nothingDeleted, slots: 3, backends: [60] } },
    ],
  ];

  for (const [name, tamper, expected] of cases) {
    it(name, () => {
      const { plan, after } = repaired(tamper);
      expect(summary(plan)).toEqual(expected);
      // Applied, the plan gives back exactly what was programmed.
      const clean = programmed(mirror());
      expect(after).toEqual(clean);
      // And a second scan finds nothing.
      expect(summary(planRepairs(mirror(), snapshot(after)))).toEqual({ backends: [], services: [], deleted: nothingDeleted });
    });
  }

  it("an entry switched to another id is repaired first, then the old id's slots and backend go", () => {
    const tamper = (maps: Maps): void => {
      maps.backends.set(bk(70), backendValue.encode(pod(70)));
      maps.slots.set(sk(30, 0, 0), backendId.encode(70));
      maps.services.set(ek(KEY_A), svcValue.encode({ id: 30, mode: 'FAILOVER', counts: [1], weights: [] }));
    };
    const { plan, after } = repaired(tamper);
    expect(summary(plan).deleted).toEqual({ ...nothingDeleted, slots: 1, backends: [70] });
    expect(after).toEqual(programmed(mirror()));
  });

  it('keeps what a service whose rewrite failed still serves from', () => {
    const m = mirror();
    const maps = programmed(m);
    maps.backends.set(bk(70), backendValue.encode(pod(70)));
    maps.slots.set(sk(30, 0, 0), backendId.encode(70));
    maps.slots.set(sk(1, 1, 0), backendId.encode(70)); // its own slot, wrong
    maps.services.set(ek(KEY_A), svcValue.encode({ id: 30, mode: 'FAILOVER', counts: [1], weights: [] }));
    const plan = planRepairs(m, snapshot(maps));
    const dead = plan.deletions(new Set(['10.96.0.1:80/TCP']));
    expect(dead).toEqual({ services: [], slots: [], counters: [], backends: [] });
    const after = replay(m, maps, plan, new Set(['10.96.0.1:80/TCP']));
    expect(reachable(after, KEY_A)).toEqual(new Set([70]));
  });

  it('counts slots the mirror lost as holes and leaves them to the next apply', () => {
    const m = mirror();
    const lost: MirrorView = {
      backendValue: (id) => m.backendValue(id),
      services: m.services.map((s) => (s.id === 1 ? { ...s, tiers: [[1, 0], ...s.tiers.slice(1)] } : s)),
    };
    const maps = programmed(m);
    maps.backends.set(bk(80), backendValue.encode(pod(80)));
    maps.slots.set(sk(1, 0, 1), backendId.encode(80)); // someone restored it: not ours to judge
    maps.backends.delete(bk(2));
    const plan = planRepairs(lost, snapshot(maps));
    expect(plan.holes).toBe(1);
    expect(summary(plan)).toEqual({ backends: [], services: [], deleted: nothingDeleted });
  });
});
