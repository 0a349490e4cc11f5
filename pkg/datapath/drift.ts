/*
 * Drift: where the kernel maps no longer hold what the writer programmed, because something
 * changed them behind its back (`bpftool map delete`, a lost entry, a stray service). Pure: the
 * writer's mirror and a raw snapshot of the three maps in, the repairs out, so every case can
 * be tested without a kernel. ServiceWriter.repairDrift() applies them in the safe write order.
 *
 * The mirror is the truth. Values are compared as the bytes the writer would write, so a flag
 * or reserved byte set by someone else counts as drift too. A service whose state matches gets
 * no repair at all: a periodic scan must not disturb healthy traffic.
 *
 * Deletions are planned only after the writes ran, because they depend on which writes landed:
 * a service whose rewrite failed (say, a full map) keeps serving from what the kernel holds, so
 * the slots and backends its current entry points at must stay until a later scan succeeds.
 */
import { backendId, backendValue, slotKey, svcKey, svcValue } from './codecs.js';
import { serviceKeyText } from './identity.js';
import { extendReach, type KernelSnapshot, KernelState } from './kernel-state.js';
import type { BalanceName, ModeName, ServiceKey, SpilloverSpec } from './types.js';

export type { KernelSnapshot } from './kernel-state.js';

export interface MirroredService {
  readonly key: ServiceKey;
  readonly id: number;
  readonly mode: ModeName;
  /** RANDOM when absent. */
  readonly balance?: BalanceName;
  readonly weights: readonly number[];
  /** SPILLOVER's counts in the entry; absent when none. */
  readonly spillover?: SpilloverSpec | undefined;
  /** Session affinity timeout in seconds; absent when none. */
  readonly affinitySeconds?: number | undefined;
  /** Backend ids per tier, index = slot index; 0 is a slot the writer itself lost at read-back. */
  readonly tiers: ReadonlyArray<readonly number[]>;
}

export interface MirrorView {
  readonly services: readonly MirroredService[];
  /** The value bytes the writer programmed for a backend id; undefined for an id it does not know. */
  backendValue(id: number): Buffer | undefined;
}

export interface BackendRewrite {
  readonly id: number;
  readonly key: Buffer;
  readonly value: Buffer;
  /** Names the backend in errors, e.g. "backend 7 10.244.1.10:8080". */
  readonly label: string;
}

/** What one drifted mirrored service needs, to be written in this order after the backends. */
export interface ServiceRepair {
  /** Key string, e.g. "10.96.0.10:80/TCP". */
  readonly service: string;
  /** Rewritten backends this service names: its slots may only be trusted once they landed. */
  readonly backends: readonly number[];
  readonly slots: ReadonlyArray<{ readonly key: Buffer; readonly backend: number }>;
  /** The service entry, last: it publishes the counts. */
  readonly entry?: { readonly key: Buffer; readonly value: Buffer };
}

export interface DriftDeletions {
  /** Service entries the mirror does not know: unpublished first. */
  readonly services: ReadonlyArray<{ readonly key: Buffer; readonly service: string; readonly id: number }>;
  /** Slots no published entry can reach any more. */
  readonly slots: readonly Buffer[];
  /** Service ids whose per-tier counters go with their stray entry. */
  readonly counters: readonly number[];
  /** Backends no remaining slot names. */
  readonly backends: readonly number[];
}

export interface RepairPlan {
  readonly backends: readonly BackendRewrite[];
  readonly services: readonly ServiceRepair[];
  /** Mirror slots with no known backend; the next apply of their service fills them. */
  readonly holes: number;
  /**
   * What to delete once the writes ran. `unrepaired` names services (key strings) whose
   * writes did not all land: their current kernel state stays reachable and is kept.
   */
  deletions(unrepaired?: ReadonlySet<string>): DriftDeletions;
}

/** What one drift scan found and repaired. All zero and empty when the kernel matched. */
export interface DriftReport {
  /** Entries written back to what the mirror says, per map. */
  rewritten: { services: number; slots: number; backends: number };
  /** Entries the mirror does not account for, deleted, per map. */
  deleted: { services: number; slots: number; backends: number; counters: number };
  /** Programmed services whose entry, slots or backends were repaired, by key string. */
  drifted: string[];
  /** Service entries this writer never programmed, deleted with their slots, by key string. */
  strays: string[];
  /** Drifted services left as the kernel had them because a write failed; the next scan retries. */
  failed: Array<{ service: string; error: Error }>;
  /** Slots lost before this writer started (see ReadBackReport.holes); the next apply fills them. */
  holes: number;
}

export function planRepairs(mirror: MirrorView, snapshot: KernelSnapshot): RepairPlan {
  const kernel = new KernelState(snapshot);
  const backendDump = snapshot.backends;
  const backendRewrites: BackendRewrite[] = [];
  const backendHealthy = new Map<number, boolean>();
  const checkBackend = (id: number, want: Buffer): boolean => {
    let healthy = backendHealthy.get(id);
    if (healthy === undefined) {
      const row = kernel.backendRow(id);
      healthy = row !== undefined && sameBytes(want, backendDump.values, row * backendDump.valueSize, backendDump.valueSize);
      backendHealthy.set(id, healthy);
      if (!healthy) {
        const value = Buffer.from(want);
        const { address, port } = backendValue.decode(value);
        backendRewrites.push({ id, key: backendId.encode(id), value, label: `backend ${id} ${address}:${port}` });
      }
    }
    return healthy;
  };

  const repairs: ServiceRepair[] = [];
  const mirroredKeys = new Set<string>();
  let holes = 0;
  for (const s of mirror.services) {
    const entryKey = svcKey.encode(s.key);
    mirroredKeys.add(entryKey.toString('latin1'));
    const broken: number[] = [];
    const slotWrites: Array<{ key: Buffer; backend: number }> = [];
    s.tiers.forEach((tier, t) =>
      tier.forEach((id, index) => {
        const known = id === 0 ? undefined : mirror.backendValue(id);
        if (!known) {
          holes++;
          return;
        }
        if (!checkBackend(id, known) && !broken.includes(id)) broken.push(id);
        if (kernel.slot(s.id, t, index) !== id) slotWrites.push({ key: slotKey.encode({ svcId: s.id, tier: t, index }), backend: id });
      }),
    );
    const want = svcValue.encode({
      id: s.id,
      mode: s.mode,
      balance: s.balance ?? 'RANDOM',
      counts: s.tiers.map((t) => t.length),
      weights: s.weights,
      spillover: s.spillover,
      affinitySeconds: s.affinitySeconds,
    });
    const current = kernel.entry(entryKey);
    const entryHealthy = current !== undefined && kernel.valueOf(current).equals(want);
    if (broken.length === 0 && slotWrites.length === 0 && entryHealthy) continue;
    repairs.push({
      service: serviceKeyText(s.key),
      backends: broken,
      slots: slotWrites,
      ...(entryHealthy ? {} : { entry: { key: entryKey, value: want } }),
    });
  }

  const deletions = (unrepaired: ReadonlySet<string> = new Set()): DriftDeletions => {
    // Which (service id, tier) ranges a published entry can reach once the writes are done.
    const reach = new Map<number, number[]>();
    // Ids whose slots, within reach, end up holding exactly what the mirror says.
    const settled = new Map<number, MirroredService>();
    for (const s of mirror.services) {
      extendReach(
        reach,
        s.id,
        s.tiers.map((t) => t.length),
      );
      if (unrepaired.size === 0 || !unrepaired.has(serviceKeyText(s.key))) {
        settled.set(s.id, s);
        continue;
      }
      // Its rewrite did not land: the entry the kernel still holds keeps serving.
      const current = kernel.entry(svcKey.encode(s.key));
      if (current) extendReach(reach, current.id, current.counts);
    }

    const strays = kernel.entries.filter((e) => !mirroredKeys.has(kernel.keyOf(e).toString('latin1')));
    const keepBackends = new Set<number>();
    for (const s of mirror.services) for (const tier of s.tiers) for (const id of tier) if (id !== 0) keepBackends.add(id);
    const deadSlots: Buffer[] = [...kernel.outOfRangeSlots];
    kernel.forEachSlot((svcId, tier, index, backend) => {
      if (index >= (reach.get(svcId)?.[tier] ?? 0)) {
        deadSlots.push(slotKey.encode({ svcId, tier, index }));
        return;
      }
      // A reachable slot the writes did not set to the mirror's backend keeps whatever it names.
      const owner = settled.get(svcId);
      if (!owner?.tiers[tier]?.[index]) keepBackends.add(backend);
    });
    const deadBackends: number[] = [];
    kernel.forEachBackend((id) => {
      if (!keepBackends.has(id)) deadBackends.push(id);
    });
    return {
      services: strays.map((e) => ({ key: kernel.keyOf(e), service: strayLabel(kernel.keyOf(e)), id: e.id })),
      slots: deadSlots,
      counters: [...new Set(strays.map((e) => e.id))].filter((id) => !reach.has(id)),
      backends: deadBackends,
    };
  };

  return { backends: backendRewrites, services: repairs, holes, deletions };
}

/** a[0..n) against b[at..at+n), without a Buffer view or a native call per compare. */
function sameBytes(a: Buffer, b: Buffer, at: number, n: number): boolean {
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[at + i]) return false;
  return true;
}

/** A stray key was written by someone else and may not decode; name it by its bytes then. */
function strayLabel(key: Buffer): string {
  try {
    return serviceKeyText(svcKey.decode(key));
  } catch {
    return `key ${key.toString('hex')}`;
  }
}
