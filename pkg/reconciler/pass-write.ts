/*
 * Stage 4, write: removals first (they free map room), then changed services, then new ones (in
 * bulk on the first pass). A service that fails is recorded and retried on every pass; the others
 * still get their writes.
 *
 * The order is the policy for a full map (docs/troubleshooting.md, "A map is full"): a service
 * already programmed keeps its entries (the writer leaves a failed change as it was) and gets the
 * room for its changes before any new service; new services wait, the one that has waited
 * longest first, so a full map never takes working Services away and never starves a waiting one
 * for a newer one.
 */
import { opsSince, serviceKeyText, type ServiceSpec } from '../datapath/index.js';
import { toFailure } from './failures.js';
import type { PassContext, PassWork, WantedSpec } from './pass-context.js';
import type { PassDiff } from './pass-compare.js';

/** Services per bulk write on the first pass. */
const BULK_SLICE = 2_000;

export interface PassWrites {
  readonly applied: number;
  readonly removed: number;
  /** Entries written or deleted, by map, as the maps counted them. */
  readonly mapWrites: Record<string, number>;
  /** Services refused, by the map that refused ("none" when no map was involved). */
  readonly mapErrors: Record<string, number>;
}

export function write(context: PassContext, work: PassWork, diff: PassDiff): PassWrites {
  const { writer, state } = context;
  const opsBefore = writer.mapOps();
  const mapErrors: Record<string, number> = {};
  const fail = (service: string, key: string, error: unknown): void => {
    const failure = toFailure(service, key, error);
    state.failures.set(key, failure);
    const map = failure.map ?? 'none';
    mapErrors[map] = (mapErrors[map] ?? 0) + 1;
  };
  const succeeded = (key: string): void => {
    state.failures.delete(key);
  };

  let removed = 0;
  for (const key of diff.removed) {
    const programmed = writer.keyOf(key)!;
    try {
      if (writer.remove(programmed)) removed++;
      succeeded(key);
    } catch (error) {
      fail(writer.label(programmed) ?? '', key, error);
    }
  }
  let applied = 0;
  const added = newestLast(diff.added, state.failures);
  const applyOne = (d: WantedSpec): void => {
    try {
      writer.apply(d.spec);
      succeeded(d.key);
      applied++;
    } catch (error) {
      fail(d.service, d.key, error);
    }
  };
  diff.changed.forEach(applyOne);
  if (work.kind === 'full' && work.first && added.length > 0) {
    // In slices: a few more batch calls, but far less held in memory at once.
    for (let i = 0; i < added.length; i += BULK_SLICE) {
      const bulk = writer.applyMany(added.slice(i, i + BULK_SLICE).map((d): ServiceSpec => d.spec));
      for (const key of bulk.appliedKeys) {
        succeeded(key);
        applied++;
      }
      for (const f of bulk.failed) fail(f.spec.label, serviceKeyText(f.spec.key), f.error);
    }
  } else {
    added.forEach(applyOne);
  }

  const mapWrites: Record<string, number> = { services: 0, slots: 0, backends: 0 };
  for (const [map, ops] of Object.entries(opsSince(opsBefore, writer.mapOps()))) {
    if (ops.writes + ops.deletes > 0) mapWrites[map] = (mapWrites[map] ?? 0) + ops.writes + ops.deletes;
  }
  return { applied, removed, mapWrites, mapErrors };
}

/** Services that already waited for room first, in the order they began to wait; then the others by name. */
function newestLast(added: readonly WantedSpec[], waiting: ReadonlyMap<string, unknown>): WantedSpec[] {
  const since = new Map([...waiting.keys()].map((key, index) => [key, index]));
  const rank = (d: WantedSpec): number => since.get(d.key) ?? Number.MAX_SAFE_INTEGER;
  const byName = (a: WantedSpec, b: WantedSpec): number => a.service.localeCompare(b.service) || a.key.localeCompare(b.key);
  return [...added].sort((a, b) => rank(a) - rank(b) || byName(a, b));
}
