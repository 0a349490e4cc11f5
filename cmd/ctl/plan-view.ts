/*
 * How `nearbyctl plan` shows a plan. The JSON shape is a contract for scripts and tests:
 * {"node", "services": [{"service", "mode", "ports", "tiers": [{"endpoints": [...]}]}]}.
 * A Service's tiers merge its VIPs and ports (an endpoint appears once per target port); tier
 * numbers keep their meaning (distance), so only empty tiers past the last used one are cut.
 */
import { interceptedText, type Plan, type PlannedService } from '../../pkg/planner/index.js';

export interface PlanJson {
  readonly node: string;
  readonly services: ReadonlyArray<{
    readonly service: string;
    readonly mode: string;
    readonly ports: readonly number[];
    readonly tiers: ReadonlyArray<{
      readonly endpoints: ReadonlyArray<{ address: string; port: number; node: string | null; pod: string | null }>;
    }>;
  }>;
}

type TierEndpoints = PlanJson['services'][number]['tiers'][number]['endpoints'];

function mergedTiers(planned: PlannedService): TierEndpoints[] {
  const tiers: Array<Map<string, TierEndpoints[number]>> = [];
  for (const entry of planned.entries) {
    entry.tiers.forEach((tier, t) => {
      const merged = (tiers[t] ??= new Map());
      for (const e of tier.endpoints) merged.set(`${e.address}#${e.port}`, { address: e.address, port: e.port, node: e.node, pod: e.pod });
    });
  }
  let last = tiers.length - 1;
  while (last >= 0 && (tiers[last]?.size ?? 0) === 0) last--;
  return tiers.slice(0, last + 1).map((m) => [...m.values()]);
}

export function planJson(plan: Plan): PlanJson {
  return {
    node: plan.node,
    services: plan.services.map((s) => ({
      service: s.service,
      mode: s.mode,
      ports: [...new Set(s.entries.map((e) => e.port))].sort((a, b) => a - b),
      tiers: mergedTiers(s).map((endpoints) => ({ endpoints })),
    })),
  };
}

function showEndpoint(e: TierEndpoints[number]): string {
  const where = [e.node ? `node ${e.node}` : 'node ?', e.pod ? `pod ${e.pod}` : undefined].filter(Boolean).join(', ');
  return `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port} (${where})`;
}

export function planText(plan: Plan, problems: readonly string[] = []): string {
  const entries = plan.services.reduce((n, s) => n + s.entries.filter((e) => !e.passthrough).length, 0);
  const lines = [`node ${plan.node}: ${interceptedText(plan.services.length, entries)}, ${plan.skipped.length} skipped`];
  for (const s of plan.services) {
    lines.push('', `${s.service}  ${s.mode}`, `  why: ${s.reason}`);
    for (const entry of s.entries) {
      const vip = entry.vip.includes(':') ? `[${entry.vip}]` : entry.vip;
      const used = entry.tiers.findIndex((t) => t.endpoints.length > 0);
      lines.push(`  ${vip}:${entry.port}/${entry.protocol}${entry.portName ? ` (${entry.portName})` : ''}`);
      if (entry.passthrough) {
        lines.push('    PASSTHROUGH: not intercepted, connects reach the VIP unmodified');
        continue;
      }
      if (entry.balance === 'MAGLEV') lines.push(`    MAGLEV: a table of ${entry.maglevTableSize} slots per non-empty tier`);
      if (used < 0) {
        lines.push(
          s.mode === 'STRICT' ? '    no endpoint on this node: connects fail at once' : '    no eligible endpoint: connects fail at once',
        );
        continue;
      }
      entry.tiers.forEach((tier, t) => {
        if (tier.endpoints.length === 0) return;
        const mark = t === used ? '  <- used' : '';
        lines.push(`    tier ${t}${mark}: ${tier.endpoints.map((e) => showEndpoint(e)).join(', ')}`);
      });
    }
  }
  if (plan.skipped.length > 0) {
    lines.push('', 'not intercepted:');
    for (const s of plan.skipped) lines.push(`  ${s.service}: ${s.reason}`);
  }
  if (plan.warnings.length > 0) {
    lines.push('', 'warnings:');
    for (const w of plan.warnings) lines.push(`  ${w.kind} ${w.name}: ${w.message}`);
  }
  if (problems.length > 0) {
    lines.push('', 'unreadable:');
    for (const p of problems) lines.push(`  ${p}`);
  }
  return lines.join('\n');
}
