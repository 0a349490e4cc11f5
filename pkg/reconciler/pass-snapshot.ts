/*
 * Stage 1, snapshot: the objects as they are now, and which Services they may have changed. A
 * resync first puts the maps back to what the writer knows it wrote (someone may have deleted
 * or edited entries by hand), so the later stages compare the plan with maps that are true.
 */
import type { SnapshotDelta } from '../model/index.js';
import type { PassContext, PassWork } from './pass-context.js';

export interface Snapshot {
  /** Services ("ns/name") to plan again. */
  readonly dirty: Set<string>;
  /** Entries drift repair put right, by map, when it ran. */
  readonly drift?: Record<string, number>;
}

export function takeSnapshot(context: PassContext, work: PassWork): Snapshot {
  const { store, desired } = context.state;
  const drift = work.kind === 'full' && work.everything && !work.first ? repairDrift(context) : undefined;
  let dirty: Set<string> | 'all';
  if (work.kind === 'full') {
    const delta = store.rebuild(context.source.objects());
    dirty = work.everything ? 'all' : affectedServices(context, delta);
  } else {
    dirty = affectedServices(context, store.apply(work.changes));
  }
  if (dirty === 'all') dirty = new Set([...store.snapshot.services.keys(), ...desired.serviceKeys()]);
  return { dirty, ...(drift ? { drift } : {}) };
}

function repairDrift(context: PassContext): Record<string, number> {
  const report = context.writer.repairDrift();
  const counts: Record<string, number> = {};
  for (const [map, n] of [...Object.entries(report.rewritten), ...Object.entries(report.deleted)]) {
    if (n > 0) counts[map] = (counts[map] ?? 0) + n;
  }
  if (report.drifted.length + report.strays.length + report.failed.length > 0) {
    context.logger.warn(
      {
        drifted: report.drifted.slice(0, 20),
        strays: report.strays.slice(0, 20),
        failed: report.failed.map((f) => f.service),
        entries: counts,
      },
      'maps had drifted from what this agent programmed; repaired',
    );
  }
  return counts;
}

/** Services whose plan may differ after `delta`. */
function affectedServices(context: PassContext, delta: SnapshotDelta): Set<string> | 'all' {
  if (delta.nodes.has(context.nodeName)) return 'all';
  const { store } = context.state;
  const dirty = new Set(delta.services);
  for (const node of delta.nodes) for (const s of store.servicesOnNode(node)) dirty.add(s);
  for (const ns of delta.namespaces) for (const s of store.servicesInNamespace(ns)) dirty.add(s);
  return dirty;
}
