/*
 * The datapath specs the plan wants, kept per Kubernetes Service so that one Service can be
 * re-planned alone. Each Service claims the (VIP, port, protocol) keys of its specs; the API server never gives
 * one ClusterIP to two Services, but a manifest directory can, so a key claimed twice goes to
 * the first Service by name, whatever order the claims arrived in.
 */
import { type BackendSpec, sameSpec, type ServiceSpec } from '../datapath/index.js';
import type { ServicePlan, Warning } from '../planner/index.js';
import type { NodeIds } from './node-ids.js';
import { serviceSpecs, type DesiredService, type VipConflict } from './translate.js';

/** Only what later passes need: the specs (few per Service), and warnings to report. */
interface ServiceEntry {
  readonly warnings: readonly Warning[];
  readonly specs: readonly DesiredService[];
}

export interface DesiredSpec {
  /** "namespace/name" of the owning Service. */
  readonly service: string;
  readonly spec: ServiceSpec;
}

export class DesiredSpecs {
  private readonly services = new Map<string, ServiceEntry>();
  /** Claimants per key: a lone claimant as its key, a Set only when contested (rare, and 10,000 Sets cost megabytes). */
  private readonly claims = new Map<string, string | Set<string>>();
  private readonly contested = new Set<string>();
  private readonly warned = new Set<string>();
  /** Services the planner intercepts (a plan, not skipped), whether or not they have entries. */
  private readonly intercepted = new Set<string>();

  /**
   * Replaces one Service's plan (undefined: the Service is gone) and adds to `touched` every
   * datapath key whose desired spec may have changed.
   */
  set(serviceKey: string, plan: ServicePlan | undefined, nodeIds: NodeIds, touched: Set<string>): void {
    const before = this.services.get(serviceKey);
    for (const d of before?.specs ?? []) this.release(d.id, serviceKey, touched);
    this.services.delete(serviceKey);
    this.warned.delete(serviceKey);
    this.intercepted.delete(serviceKey);
    if (!plan?.outcome) return;
    if (plan.outcome.planned) this.intercepted.add(serviceKey);

    const fresh = plan.outcome.planned ? serviceSpecs(plan.outcome.planned, nodeIds) : [];
    // A re-plan that changed nothing keeps the old objects: the new ones then die young, and a
    // relabel that re-plans every Service does not turn them all into old-generation garbage.
    const specs = before && sameSpecs(before.specs, fresh) ? before.specs : fresh;
    const warnings = before && sameWarnings(before.warnings, plan.warnings) ? before.warnings : plan.warnings;
    this.services.set(serviceKey, { warnings, specs });
    if (warnings.length > 0) this.warned.add(serviceKey);
    for (const d of specs) this.claim(d.id, serviceKey, touched);
  }

  /** The spec a key should hold, from the first Service by name that claims it. */
  get(key: string): DesiredSpec | undefined {
    const owner = this.owner(key);
    const spec = owner === undefined ? undefined : this.services.get(owner)?.specs.find((d) => d.id === key)?.spec;
    return owner === undefined || spec === undefined ? undefined : { service: owner, spec };
  }

  has(serviceKey: string): boolean {
    return this.services.has(serviceKey);
  }

  serviceKeys(): IterableIterator<string> {
    return this.services.keys();
  }

  /** Every datapath key some Service claims. */
  keys(): IterableIterator<string> {
    return this.claims.keys();
  }

  /** How many Services are intercepted, as `nearbyctl plan` counts them (pkg/planner's plan-words). */
  get interceptedServices(): number {
    return this.intercepted.size;
  }

  get size(): number {
    return this.claims.size;
  }

  conflicts(): VipConflict[] {
    const out: VipConflict[] = [];
    for (const key of this.contested) {
      const owner = this.owner(key);
      for (const service of claimantsOf(this.claims.get(key))) {
        if (owner !== undefined && service !== owner) out.push({ service, key, owner });
      }
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.service < b.service ? -1 : 1));
  }

  warnings(): Warning[] {
    return [...this.warned].flatMap((key) => this.services.get(key)?.warnings ?? []);
  }

  /** Node ids any desired backend carries: they must be kept. */
  nodeIds(): Set<number> {
    const ids = new Set<number>();
    // Callbacks, not for-of: run once per full pass, its iterators were ~5 MiB of garbage at
    // 90,000 backends in a heap profile of the first pass (code run once is seldom optimised).
    const add = (b: BackendSpec): void => {
      if (b.nodeId !== 0) ids.add(b.nodeId);
    };
    this.services.forEach((entry) => entry.specs.forEach((d) => d.spec.tiers.forEach((tier) => tier.forEach(add))));
    return ids;
  }

  private owner(key: string): string | undefined {
    const claimants = this.claims.get(key);
    if (claimants === undefined || typeof claimants === 'string') return claimants;
    let first: string | undefined;
    for (const s of claimants) if (first === undefined || s < first) first = s;
    return first;
  }

  private claim(key: string, serviceKey: string, touched: Set<string>): void {
    const claimants = this.claims.get(key);
    if (claimants === undefined || claimants === serviceKey) {
      this.claims.set(key, serviceKey);
    } else {
      const set = typeof claimants === 'string' ? new Set([claimants]) : claimants;
      set.add(serviceKey);
      this.claims.set(key, set);
      this.contested.add(key);
    }
    touched.add(key);
  }

  private release(key: string, serviceKey: string, touched: Set<string>): void {
    const claimants = this.claims.get(key);
    if (claimants === serviceKey) {
      this.claims.delete(key);
    } else if (claimants instanceof Set) {
      claimants.delete(serviceKey);
      if (claimants.size <= 1) {
        const [last] = claimants;
        if (last === undefined) this.claims.delete(key);
        else this.claims.set(key, last);
        this.contested.delete(key);
      }
    }
    touched.add(key);
  }
}

function claimantsOf(claimants: string | Set<string> | undefined): Iterable<string> {
  return claimants === undefined ? [] : typeof claimants === 'string' ? [claimants] : claimants;
}

function sameSpecs(a: readonly DesiredService[], b: readonly DesiredService[]): boolean {
  return a.length === b.length && a.every((d, i) => d.id === b[i]!.id && sameSpec(d.spec, b[i]!.spec));
}

function sameWarnings(a: readonly Warning[], b: readonly Warning[]): boolean {
  return a.length === b.length && a.every((w, i) => w.kind === b[i]!.kind && w.name === b[i]!.name && w.message === b[i]!.message);
}
