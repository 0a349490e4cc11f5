/*
 * Keeps the claims map (bpf/nearby.h) beside what the writer programs: a service nearby claims
 * exclusively has its row before its service entry is written and loses it after the entry is
 * removed, so a stale heartbeat never turns such a service over to a proxy that does not serve it.
 * A row left behind by a failed write only keeps a service from failing open, which is the safe side.
 */
import type { BpfMap } from './bpf-map.js';
import { svcKey } from './codecs.js';
import type { ServiceWriter } from './writer.js';
import { serviceKeyText } from './identity.js';
import type { ServiceKey, ServiceSpec } from './types.js';

const CLAIMED = Buffer.from([1]);

type Writer = Pick<
  ServiceWriter,
  'apply' | 'remove' | 'applyMany' | 'matches' | 'repairDrift' | 'keys' | 'keyOf' | 'label' | 'relabel' | 'nodeIdOf' | 'totals' | 'mapOps'
>;

/** Key text (serviceKeyText) of every service with a row in claims. */
export function claimedKeys(claims: BpfMap): Set<string> {
  const rows = claims.dump();
  const out = new Set<string>();
  for (let i = 0; i < rows.count; i++) out.add(serviceKeyText(svcKey.decode(rows.keys, i * rows.keySize)));
  return out;
}

export class ClaimingWriter {
  /** Key text of every service with a row in claims. */
  private readonly claimed: Set<string>;

  constructor(
    private readonly inner: Writer,
    private readonly claims: BpfMap,
  ) {
    this.claimed = claimedKeys(claims);
  }

  isClaimed(key: ServiceKey): boolean {
    return this.claimed.has(serviceKeyText(key));
  }

  apply(spec: ServiceSpec): ReturnType<Writer['apply']> {
    this.claimBefore(spec);
    const programmed = this.inner.apply(spec);
    this.releaseAfter(spec);
    return programmed;
  }

  applyMany(specs: readonly ServiceSpec[]): ReturnType<Writer['applyMany']> {
    for (const spec of specs) this.claimBefore(spec);
    const result = this.inner.applyMany(specs);
    for (const spec of specs) this.releaseAfter(spec);
    return result;
  }

  remove(key: ServiceKey): boolean {
    const removed = this.inner.remove(key);
    this.release(key);
    return removed;
  }

  /** A change of claim alone is a change: the reconciler must rewrite the service for it. */
  matches(spec: ServiceSpec): boolean {
    return this.inner.matches(spec) && this.isClaimed(spec.key) === (spec.exclusive === true);
  }

  repairDrift(): ReturnType<Writer['repairDrift']> {
    return this.inner.repairDrift();
  }
  keys(): ReturnType<Writer['keys']> {
    return this.inner.keys();
  }
  keyOf(text: string): ReturnType<Writer['keyOf']> {
    return this.inner.keyOf(text);
  }
  label(key: ServiceKey): string | undefined {
    return this.inner.label(key);
  }
  relabel(key: ServiceKey, label: string): void {
    this.inner.relabel(key, label);
  }
  nodeIdOf(address: string, port: number): number | undefined {
    return this.inner.nodeIdOf(address, port);
  }
  totals(): ReturnType<Writer['totals']> {
    return this.inner.totals();
  }
  mapOps(): ReturnType<Writer['mapOps']> {
    return this.inner.mapOps();
  }

  private claimBefore(spec: ServiceSpec): void {
    if (!spec.exclusive || this.isClaimed(spec.key)) return;
    this.claims.update(svcKey.encode(spec.key), CLAIMED);
    this.claimed.add(serviceKeyText(spec.key));
  }

  private releaseAfter(spec: ServiceSpec): void {
    if (!spec.exclusive) this.release(spec.key);
  }

  private release(key: ServiceKey): void {
    const text = serviceKeyText(key);
    if (!this.claimed.has(text)) return;
    this.claims.delete(svcKey.encode(key));
    this.claimed.delete(text);
  }
}
