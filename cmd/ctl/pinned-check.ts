/*
 * `nearbyctl explain`'s last part: what the node's pinned maps hold for the Service, and whether
 * it is what the plan says. "The same" is the datapath's own definition (sameService), the one
 * the agent's drift repair uses; node ids are the agent's numbering, which a reader cannot know.
 */
import { existsSync } from 'node:fs';
import type { PinnedState } from '../../pkg/datapath/index.js';
import { sameService, serviceKeyText } from '../../pkg/datapath/index.js';
import type { Service } from '../../pkg/model/index.js';
import type { PlannedService } from '../../pkg/planner/index.js';
import { NodeIds, serviceSpecs } from '../../pkg/reconciler/index.js';

export interface PinnedComparison {
  readonly lines: readonly string[];
  /** Every planned entry programmed as planned, and nothing programmed for a Service left alone. */
  readonly matches: boolean;
}

function tierSizes(tiers: ReadonlyArray<readonly unknown[]>): string {
  const last = tiers.reduce((found, tier, t) => (tier.length > 0 ? t : found), -1);
  return `[${tiers
    .slice(0, last + 1)
    .map((t) => t.length)
    .join(', ')}]`;
}

function countersLine(state: PinnedState, svcId: number): string | undefined {
  const tiers = state.counters.filter((c) => c.svcId === svcId && c.attempts > 0n).sort((a, b) => a.tier - b.tier);
  if (tiers.length === 0) return undefined;
  return `  connects: ${tiers.map((c) => `tier ${c.tier} ${c.attempts} (failed ${c.failed + c.refused})`).join(', ')}`;
}

/** docs/troubleshooting.md, "Which Service loses when a map is full": the reconciler's write order. */
export const MAP_FULL_POLICY =
  "if a map is full (the agent's /readyz names it): Services already programmed keep their entries and new ones wait, " +
  'the longest-waiting first; this one is written once its map has room';

/** The plan of one Service (undefined: nearby leaves it alone) against the node's pins. */
export function compareWithPins(service: Service | undefined, planned: PlannedService | undefined, state: PinnedState): PinnedComparison {
  const lines = [`pinned maps ${state.pinRoot}:`];
  let matches = true;
  let missing = 0;
  if (planned) {
    for (const { id, spec } of serviceSpecs(planned, new NodeIds())) {
      const programmed = state.services.find((s) => serviceKeyText(s.key) === id);
      if (!programmed) {
        matches = false;
        missing++;
        lines.push(`  ${id}: NOT programmed (the plan has it: ${spec.mode}, tier sizes ${tierSizes(spec.tiers)})`);
        continue;
      }
      const same = sameService(spec, programmed, { ignoreNodeIds: true });
      if (!same) matches = false;
      lines.push(
        same
          ? `  ${id}: programmed as planned (${programmed.mode}, tier sizes ${tierSizes(programmed.tiers)})`
          : `  ${id}: DIFFERS from the plan: programmed ${programmed.mode}, tier sizes ${tierSizes(programmed.tiers)}; ` +
              `planned ${spec.mode}, tier sizes ${tierSizes(spec.tiers)}`,
      );
      const counters = countersLine(state, programmed.id);
      if (counters) lines.push(counters);
    }
  } else if (service) {
    const vips = new Set(service.clusterIPs.map((ip) => ip.address));
    for (const programmed of state.services.filter((s) => vips.has(s.key.address))) {
      matches = false;
      lines.push(`  ${serviceKeyText(programmed.key)}: still programmed (${programmed.mode}), though the plan leaves the Service alone`);
    }
    if (matches) lines.push('  nothing programmed for it, as planned');
  }
  if (missing > 0) lines.push(MAP_FULL_POLICY);
  lines.push(
    matches
      ? 'the maps match the plan'
      : 'the maps do NOT match the plan (a change not yet applied, or a write the kernel refused: see nearby_services_failed)',
  );
  return { lines, matches };
}

/** The node's pinned state, or why it cannot be read here; libbpf is loaded only when pins exist. */
export async function readPins(pinRoot: string): Promise<PinnedState | string> {
  if (!existsSync(pinRoot)) return `no pins at ${pinRoot}: maps not compared (run on that node, or in its agent pod)`;
  try {
    const { readPinnedState } = await import('../../pkg/datapath/index.js');
    return readPinnedState(pinRoot);
  } catch (error) {
    return `pins at ${pinRoot} not read: ${(error as Error).message}`;
  }
}
