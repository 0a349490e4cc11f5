/* `nearbyctl explain`: which tier a connect from this node uses for a Service, and why. */
import { priorityLoad, tierHealth } from '../../pkg/contract/index.js';
import type { Snapshot } from '../../pkg/model/index.js';
import { explainEndpoint, explainRule, plan, type PlannedEntry, type PlanOptions } from '../../pkg/planner/index.js';
import { formatRemaining } from './maps.js';

/**
 * SPILLOVER: each tier's n, h (ready minus ejected now, when the node's maps were readable) and
 * the share of connects priority load gives it, by pkg/contract's rule (the kernel's too).
 */
function spilloverLines(entry: PlannedEntry, ejected: ReadonlyMap<string, number>): string[] {
  const spill = entry.spillover;
  if (!spill) return [];
  const factor = spill.overprovisionPercent;
  const tiers = entry.tiers.map((tier, t) => {
    const out = tier.endpoints.filter((e) => !e.terminating && ejected.has(`${e.address}:${e.port}`)).length;
    const n = spill.endpoints[t] ?? 0;
    const h = Math.max(0, (spill.ready[t] ?? 0) - out);
    return { n, h, out, health: tierHealth(n, h, factor) };
  });
  const loads = priorityLoad(tiers.map((t) => t.health));
  const shown = tiers.flatMap((t, i) =>
    t.n > 0 || loads[i]! > 0
      ? [`tier ${i}: n=${t.n} h=${t.h}${t.out > 0 ? ` (${t.out} ejected now)` : ''}, health ${t.health}%, load ${loads[i]}%`]
      : [],
  );
  const head = `  SPILLOVER (priority load, overprovisioning factor ${factor / 100}): `;
  if (loads.every((l) => l === 0))
    return [`${head}no tier has health left, so connects fail over as FAILOVER`, ...shown.map((s) => `    ${s}`)];
  return [`${head}connects split by tier health`, ...shown.map((s) => `    ${s}`)];
}

export function explainService(
  snapshot: Snapshot,
  nodeName: string,
  serviceKey: string,
  options: Partial<PlanOptions>,
  /** Endpoints this node's kernel has ejected now, "address:port" -> milliseconds left; read from its pinned maps when present. */
  ejected: ReadonlyMap<string, number> = new Map(),
): { text: string; found: boolean } {
  const nodePlan = plan(snapshot, nodeName, options);
  const skipped = nodePlan.skipped.find((s) => s.service === serviceKey);
  if (skipped) return { text: `${serviceKey} is not intercepted by nearby: ${skipped.reason}`, found: true };
  const planned = nodePlan.services.find((s) => s.service === serviceKey);
  if (!planned) return { text: `${serviceKey}: no such Service in the manifests (write it as namespace/name)`, found: false };

  const lines = [`${serviceKey}: ${planned.mode}, ${planned.reason}`];
  const rule = explainRule(snapshot, serviceKey, options);
  if (rule.length > 0) lines.push('', ...rule);
  const explained = new Set<string>();
  for (const entry of planned.entries) {
    const vip = entry.vip.includes(':') ? `[${entry.vip}]` : entry.vip;
    const used = entry.tiers.findIndex((t) => t.endpoints.length > 0);
    if (entry.passthrough) {
      lines.push(
        '',
        `${vip}:${entry.port}/${entry.protocol}: PASSTHROUGH, not intercepted: a connect from ${nodeName} reaches the VIP unmodified, ` +
          'so it works only where kube-proxy (or another proxy) serves the VIP',
      );
      continue;
    }
    if (used < 0) {
      lines.push('', `${vip}:${entry.port}/${entry.protocol}: no endpoint in any tier, so a connect from ${nodeName} fails at once`);
      continue;
    }
    const chosen = entry.tiers[used]!.endpoints;
    lines.push(
      '',
      `${vip}:${entry.port}/${entry.protocol}: a connect from ${nodeName} uses tier ${used}, ` +
        `shared evenly by ${chosen.length} endpoint(s): ` +
        chosen.map((e) => `${e.address}:${e.port}`).join(', '),
    );
    if (used > 0) lines.push(`  tiers 0..${used - 1} are empty for this node, so it fails over to tier ${used}`);
    if (entry.balance === 'MAGLEV' && entry.maglevTableSize) {
      const tables = entry.tiers.filter((t) => t.endpoints.length > 0).length;
      lines.push(
        `  MAGLEV: each client network namespace hashes to one of ${entry.maglevTableSize} slots of the tier's table, ` +
          `so it keeps its endpoint; ${tables} non-empty tier(s), ${tables * entry.maglevTableSize} slots`,
      );
    }
    const out = entry.tiers.flatMap((t, i) =>
      t.endpoints.flatMap((e) => {
        const ms = ejected.get(`${e.address}:${e.port}`);
        return ms === undefined ? [] : [`${e.address}:${e.port} (tier ${i}, ${formatRemaining(ms)} left)`];
      }),
    );
    if (out.length > 0) lines.push(`  ejected now by outlier detection, skipped by connects: ${out.join(', ')}`);
    lines.push(...spilloverLines(entry, ejected));
  }
  // Every endpoint of the Service once, with the ranking behind its tier.
  for (const entry of planned.entries) {
    for (const tier of entry.tiers) {
      for (const e of tier.endpoints) {
        if (explained.has(e.address)) continue;
        explained.add(e.address);
        const why = explainEndpoint(snapshot, nodeName, serviceKey, e.address, options);
        // Line 1 of every explanation is this node's locality: show it once, before the first.
        if (explained.size === 1 && why.lines[1]) lines.push('', why.lines[1]);
        lines.push('', `endpoint ${e.address}:`, ...why.lines.slice(2).map((l) => `  ${l}`));
      }
    }
  }
  if (nodePlan.warnings.length > 0) {
    const aboutThis = (w: (typeof nodePlan.warnings)[number]): boolean =>
      w.name === serviceKey ||
      (w.kind === 'DestinationRule' && [' ', ':'].some((end) => w.message.includes(`Service ${serviceKey}${end}`)));
    const relevant = nodePlan.warnings.filter((w) => aboutThis(w) || w.kind === 'Node' || w.kind === 'EndpointSlice');
    if (relevant.length > 0) lines.push('', 'warnings:', ...relevant.map((w) => `  ${w.kind} ${w.name}: ${w.message}`));
  }
  return { text: lines.join('\n'), found: true };
}
