/*
 * Which DestinationRule applies to a Service, as Istio picks one (docs/semantics.md,
 * "DestinationRule"): host matching, exportTo, the Service's namespace before the root namespace,
 * then the most specific host, the oldest rule, the name. nearby plans once per node for every
 * client on it, so a rule Istio would apply to some clients only is not applied, and said so.
 */
import type { DestinationRule, Service, Snapshot } from '../model/index.js';
import type { PlanOptions, Warning } from './types.js';
import { compareText } from './warnings.js';

/** A rule that names the Service but that nearby does not apply, and why. */
export interface SetAside {
  readonly rule: DestinationRule;
  readonly why: string;
}

export interface RuleChoice {
  readonly rule?: DestinationRule;
  /** Where the chosen rule lives: the Service's own namespace or the root namespace. */
  readonly from?: 'service namespace' | 'root namespace';
  /** Rules for this host that lost to `rule` by precedence; nothing is wrong with them. */
  readonly shadowed: readonly DestinationRule[];
  /** Rules for this host Istio would apply to some clients only. */
  readonly setAside: readonly SetAside[];
}

const NO_RULE: RuleChoice = Object.freeze({ shadowed: [], setAside: [] });

export function serviceHostname(service: Service, options: PlanOptions): string {
  return `${service.name}.${service.namespace}.svc.${options.clusterDomain}`;
}

/** A short name (no dot) is relative to the rule's namespace, as Istio resolves it. */
export function ruleHost(rule: DestinationRule, options: PlanOptions): string {
  const host = rule.host.toLowerCase();
  return host === '*' || host.includes('.') ? host : `${host}.${rule.namespace}.svc.${options.clusterDomain}`;
}

/**
 * How specifically a rule's host names `hostname`: -1 when it does not, larger is more specific.
 * An exact name beats every wildcard; a longer wildcard suffix beats a shorter one.
 */
export function hostSpecificity(host: string, hostname: string): number {
  if (host === hostname) return Number.MAX_SAFE_INTEGER;
  if (host === '*') return 0;
  if (host.startsWith('*.')) return hostname.endsWith(host.slice(1)) ? host.length : -1;
  return -1;
}

/** Visible to every client namespace: exportTo unset, or holding `*`. */
function visibleEverywhere(rule: DestinationRule): boolean {
  return rule.exportTo.length === 0 || rule.exportTo.includes('*');
}

function describeExport(rule: DestinationRule): string {
  const who = rule.exportTo.map((e) => (e === '.' ? `${rule.namespace} (".")` : e === '~' ? 'none ("~")' : e));
  return `exportTo [${who.join(', ')}] makes it visible to some client namespaces only`;
}

/** Most specific first, then oldest (an unset timestamp counts as oldest), then by name. */
function byPrecedence(hostname: string, options: PlanOptions): (a: DestinationRule, b: DestinationRule) => number {
  return (a, b) =>
    hostSpecificity(ruleHost(b, options), hostname) - hostSpecificity(ruleHost(a, options), hostname) ||
    compareText(a.creationTimestamp, b.creationTimestamp) ||
    compareText(a.key, b.key);
}

/** Rules by the exact host they name, and the wildcard ones, for one cluster domain. */
interface RuleIndex {
  readonly clusterDomain: string;
  readonly exact: ReadonlyMap<string, readonly DestinationRule[]>;
  readonly wildcard: readonly DestinationRule[];
}

/**
 * Planning asks once per Service, so scanning every rule each time would cost Services × rules.
 * Snapshots never change a rules map in place (the store replaces it), so an index per map
 * object stays true for as long as the map lives.
 */
const indexes = new WeakMap<ReadonlyMap<string, DestinationRule>, RuleIndex>();

function indexOf(rules: ReadonlyMap<string, DestinationRule>, options: PlanOptions): RuleIndex {
  const cached = indexes.get(rules);
  if (cached?.clusterDomain === options.clusterDomain) return cached;
  const exact = new Map<string, DestinationRule[]>();
  const wildcard: DestinationRule[] = [];
  for (const rule of rules.values()) {
    const host = ruleHost(rule, options);
    if (host.startsWith('*')) wildcard.push(rule);
    else exact.set(host, [...(exact.get(host) ?? []), rule]);
  }
  const index = { clusterDomain: options.clusterDomain, exact, wildcard };
  indexes.set(rules, index);
  return index;
}

export function chooseRule(snapshot: Snapshot, service: Service, options: PlanOptions): RuleChoice {
  if (snapshot.destinationRules.size === 0) return NO_RULE;
  const hostname = serviceHostname(service, options);
  const index = indexOf(snapshot.destinationRules, options);
  const own: DestinationRule[] = [];
  const root: DestinationRule[] = [];
  const setAside: SetAside[] = [];
  for (const rule of [...(index.exact.get(hostname) ?? []), ...index.wildcard]) {
    if (hostSpecificity(ruleHost(rule, options), hostname) < 0) continue;
    const home = rule.namespace === service.namespace ? own : rule.namespace === options.rootNamespace ? root : undefined;
    if (!home) {
      setAside.push({ rule, why: `it lives in namespace ${rule.namespace}, so Istio applies it to clients in ${rule.namespace} only` });
    } else if (rule.hasWorkloadSelector) {
      setAside.push({ rule, why: 'its workloadSelector limits it to the selected clients' });
    } else if (!visibleEverywhere(rule)) {
      setAside.push({ rule, why: describeExport(rule) });
    } else {
      home.push(rule);
    }
  }
  const order = byPrecedence(hostname, options);
  own.sort(order);
  root.sort(order);
  setAside.sort((a, b) => compareText(a.rule.key, b.rule.key));
  const [rule, ...shadowed] = own.length > 0 ? [...own, ...root] : root;
  if (!rule) return { shadowed: [], setAside };
  return { rule, from: rule.namespace === service.namespace ? 'service namespace' : 'root namespace', shadowed, setAside };
}

/** The warnings a choice carries: every rule set aside is said, never dropped silently. */
export function choiceWarnings(service: Service, choice: RuleChoice): Warning[] {
  return choice.setAside.map(({ rule, why }) => ({
    code: 'dr-per-client',
    kind: 'DestinationRule',
    name: rule.key,
    message: `not applied to Service ${service.key}: ${why}; nearby plans per node for every client, so it cannot apply it per client`,
  }));
}
