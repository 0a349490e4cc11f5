/*
 * The DestinationRule part of `nearbyctl explain`: which rule applied to a Service and from
 * where, which rules were set aside and why, and what of the applied rule acts above L4.
 */
import { describeOutlier } from './outlier-text.js';
import type { Snapshot } from '../model/index.js';
import { balanceFor, type BalanceChoice } from './rule-balance.js';
import { isTopologyLabel } from './rule-locality.js';
import { chooseRule, serviceHostname } from './rule-match.js';
import { DEFAULT_PLAN_OPTIONS, type PlanOptions, type Warning } from './types.js';

function showBalance(choice: BalanceChoice): string {
  if (choice.passthrough) return 'PASSTHROUGH: not intercepted, connects reach the VIP unmodified';
  if (choice.balance === 'MAGLEV') {
    return `MAGLEV inside the tier: the client's network namespace hashed into a table of ${choice.maglevTableSize} slots per non-empty tier`;
  }
  return `${choice.balance ?? 'RANDOM'} inside the tier`;
}

const NOT_APPLIED: ReadonlySet<Warning['code']> = new Set(['dr-lb-not-applied', 'dr-l7-not-applied']);

/** Lines for people; none when no DestinationRule names the Service. */
export function explainRule(snapshot: Snapshot, serviceKey: string, partial: Partial<PlanOptions> = {}): string[] {
  const service = snapshot.services.get(serviceKey);
  if (!service) return [];
  const options = { ...DEFAULT_PLAN_OPTIONS, ...partial };
  const choice = chooseRule(snapshot, service, options);
  const lines: string[] = [];
  const rule = choice.rule;
  if (rule) {
    lines.push(
      `DestinationRule ${rule.key} applies (from the ${choice.from}, host ${JSON.stringify(rule.host)} names ${serviceHostname(service, options)})`,
    );
    const setting = rule.loadBalancer?.localityLbSetting;
    if (setting) {
      lines.push(
        '  its localityLbSetting replaces trafficDistribution and the annotation; nearby needs no outlierDetection for it ' +
          '(Istio sidecars apply locality only when outlierDetection is set)',
      );
      const fromNodes = setting.failoverPriority.map((p) => p.split('=', 1)[0]!).filter((label) => !isTopologyLabel(label));
      if (fromNodes.length > 0) {
        lines.push(
          `  failoverPriority labels ${fromNodes.join(', ')} are read from the Nodes of client and endpoint, not from Pods as in Istio`,
        );
      }
    } else {
      lines.push('  it sets no localityLbSetting: the Service keeps the locality its own fields give it');
    }
    if (rule.outlierDetection) lines.push(`  ${describeOutlier(rule.outlierDetection)}`);
    for (const port of service.ports) {
      const warnings: Warning[] = [];
      const choice = balanceFor(rule, service, port, (w) => warnings.push(w));
      lines.push(`  port ${port.port}: ${showBalance(choice)}`);
      for (const w of warnings) lines.push(`    ${NOT_APPLIED.has(w.code) ? 'not applied' : 'note'}: ${w.message}`);
    }
    for (const path of rule.notApplied) lines.push(`  not applied at L4: ${path}`);
  }
  for (const shadowed of choice.shadowed) lines.push(`DestinationRule ${shadowed.key} also names this Service; it loses by precedence`);
  for (const { rule: aside, why } of choice.setAside) lines.push(`DestinationRule ${aside.key} not applied: ${why}`);
  return lines;
}
