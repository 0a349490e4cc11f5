import type { Endpoint, Namespace, Service } from '../model/index.js';
import type { ResolvedLocality } from './locality.js';
import type { Mode, PlanOptions, Scope, Warning } from './types.js';

export const TRAFFIC_DISTRIBUTION_ANNOTATION = 'networking.istio.io/traffic-distribution';

export const PREFER_CLOSE_SCOPES: readonly Scope[] = ['network', 'region', 'zone', 'subzone'];
export const PREFER_SAME_ZONE_SCOPES: readonly Scope[] = ['network', 'region', 'zone'];
export const PREFER_SAME_NODE_SCOPES: readonly Scope[] = ['network', 'region', 'zone', 'subzone', 'node'];
export const STRICT_SCOPES: readonly Scope[] = ['node'];

/**
 * Where endpoints go when a DestinationRule orders them by something other than the scopes:
 * a fixed number of tiers, and each endpoint's tier, or undefined to leave it out.
 */
export interface Placement {
  readonly tiers: number;
  readonly place: (endpoint: Endpoint, resolved: ResolvedLocality) => number | undefined;
}

export interface Policy {
  readonly mode: Mode;
  readonly scopes: readonly Scope[];
  readonly reason: string;
  /** Replaces ranking by scopes. */
  readonly placement?: Placement;
  /** WEIGHTED only: one weight per tier. */
  readonly weights?: readonly number[];
  /** No rule gave a policy: RANDOM, unless topology hints narrow it (topology-hints.ts). */
  readonly fallback?: boolean;
}

type Distribution = 'PreferClose' | 'PreferSameZone' | 'PreferSameNode';

const DISTRIBUTIONS: readonly Distribution[] = ['PreferClose', 'PreferSameZone', 'PreferSameNode'];

function scopesFor(distribution: Distribution, options: PlanOptions): { scopes: readonly Scope[]; note: string } {
  switch (distribution) {
    case 'PreferClose':
      return options.preferCloseMeaning === 'zone'
        ? { scopes: PREFER_SAME_ZONE_SCOPES, note: ' (read as PreferSameZone: preferCloseMeaning=zone)' }
        : { scopes: PREFER_CLOSE_SCOPES, note: '' };
    case 'PreferSameZone':
      return { scopes: PREFER_SAME_ZONE_SCOPES, note: '' };
    case 'PreferSameNode':
      return { scopes: PREFER_SAME_NODE_SCOPES, note: '' };
  }
}

function failover(source: string, value: string, distribution: Distribution, options: PlanOptions): Policy {
  const { scopes, note } = scopesFor(distribution, options);
  return { mode: 'FAILOVER', scopes, reason: `${source}=${value}${note}: FAILOVER over ${scopes.join(', ')}` };
}

/** The spec field is an API enum, so it is matched exactly; the annotation ignores case. */
function parseDistribution(value: string, ignoreCase: boolean): Distribution | undefined {
  const wanted = ignoreCase ? value.toLowerCase() : value;
  return DISTRIBUTIONS.find((d) => (ignoreCase ? d.toLowerCase() : d) === wanted);
}

/**
 * Picks a Service's mode; the first rule that applies wins (SEMANTICS.md, "Which policy a
 * Service gets"). A value nearby does not know is reported and skipped, so the next rule still
 * gets its turn.
 */
export function choosePolicy(
  service: Service,
  namespace: Namespace | undefined,
  options: PlanOptions,
  warn: (warning: Warning) => void,
  fromRule?: Policy,
): Policy {
  // Every warning here is about a policy value nearby does not know.
  const serviceWarning = (message: string): void => warn({ code: 'unknown-policy', kind: 'Service', name: service.key, message });

  const itp = service.internalTrafficPolicy;
  if (itp === 'Local') {
    return {
      mode: 'STRICT',
      scopes: STRICT_SCOPES,
      reason:
        'spec.internalTrafficPolicy=Local: STRICT to endpoints on this node' +
        (fromRule ? ` (it wins over ${fromRule.reason.split(':', 1)[0]!})` : ''),
    };
  }
  if (itp !== undefined && itp !== 'Cluster') {
    serviceWarning(`unknown spec.internalTrafficPolicy ${JSON.stringify(itp)}, read as Cluster`);
  }

  // A rule's localityLbSetting replaces trafficDistribution and the annotations; nearby does not
  // even look at them, so an unknown value there is not reported while a rule decides.
  if (fromRule) return fromRule;

  const spec = service.trafficDistribution;
  if (spec !== undefined) {
    const distribution = parseDistribution(spec, false);
    if (distribution) return failover('spec.trafficDistribution', spec, distribution, options);
    serviceWarning(`unknown spec.trafficDistribution ${JSON.stringify(spec)}, ignored`);
  }

  const fromAnnotation = (
    annotations: Readonly<Record<string, string>>,
    owner: string,
    report: (message: string) => void,
  ): Policy | undefined => {
    const value = annotations[TRAFFIC_DISTRIBUTION_ANNOTATION]?.trim();
    if (!value) return undefined;
    const distribution = parseDistribution(value, true);
    if (distribution) return failover(`${owner} annotation ${TRAFFIC_DISTRIBUTION_ANNOTATION}`, value, distribution, options);
    report(`unknown ${TRAFFIC_DISTRIBUTION_ANNOTATION} annotation ${JSON.stringify(value)}, ignored`);
    return undefined;
  };

  const byService = fromAnnotation(service.annotations, 'Service', serviceWarning);
  if (byService) return byService;

  if (namespace) {
    const namespaceWarning = (message: string): void => warn({ code: 'unknown-policy', kind: 'Namespace', name: namespace.name, message });
    const byNamespace = fromAnnotation(namespace.annotations, `Namespace ${namespace.name}`, namespaceWarning);
    if (byNamespace) return byNamespace;
  }

  return { mode: 'RANDOM', scopes: [], reason: 'no locality policy: RANDOM over every eligible endpoint', fallback: true };
}
