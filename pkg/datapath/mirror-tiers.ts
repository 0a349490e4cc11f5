/*
 * One service of the writer's record, as programmedAs() reads it, without building objects: the
 * reconciler asks whether every Service it re-plans is already programmed as planned.
 */
import type { ParsedAddress } from './addr.js';
import type { BackendTable } from './backend-table.js';
import { backendValue } from './codecs.js';
import { backendKey, type ProgrammedTiers } from './identity.js';
import type { MirrorService } from './mirror-service.js';
import { tierEnd, tierStart } from './packed-tiers.js';
import type { BackendSpec, BalanceName, ModeName, OutlierSpec, SpilloverSpec } from './types.js';

export class MirrorTiers implements ProgrammedTiers {
  private entry: MirrorService | undefined;
  /** Each wanted backend is encoded here to compare it with the programmed bytes. */
  private readonly scratch = Buffer.alloc(backendValue.size);

  constructor(private readonly backends: BackendTable) {}

  /** This view, onto `entry` until the next call. */
  of(entry: MirrorService): this {
    this.entry = entry;
    return this;
  }

  get mode(): ModeName {
    return this.current.mode;
  }

  get balance(): BalanceName {
    return this.current.balance;
  }

  get weights(): readonly number[] {
    return this.current.weights;
  }

  get outlier(): OutlierSpec | undefined {
    return this.current.outlier;
  }

  get affinitySeconds(): number | undefined {
    return this.current.affinitySeconds;
  }

  get spillover(): SpilloverSpec | undefined {
    return this.current.spillover;
  }

  tierSize(tier: number): number {
    return tierEnd(this.current.tiers, tier) - tierStart(this.current.tiers, tier);
  }

  holds(tier: number, backend: BackendSpec, address: ParsedAddress): boolean {
    const id = this.backends.idOf(backendKey(address, backend.port));
    if (id === undefined) return false;
    const tiers = this.current.tiers;
    let inTier = false;
    for (let i = tierStart(tiers, tier); i < tierEnd(tiers, tier) && !inTier; i++) inTier = tiers[i] === id;
    if (!inTier) return false;
    backendValue.write(this.scratch, 0, address, backend.port, backend.nodeId, backend.terminating);
    return this.backends.sameValue(id, this.scratch);
  }

  holdsAt(tier: number, index: number, backend: BackendSpec, address: ParsedAddress): boolean {
    const tiers = this.current.tiers;
    const at = tierStart(tiers, tier) + index;
    const id = this.backends.idOf(backendKey(address, backend.port));
    if (id === undefined || at >= tierEnd(tiers, tier) || tiers[at] !== id) return false;
    backendValue.write(this.scratch, 0, address, backend.port, backend.nodeId, backend.terminating);
    return this.backends.sameValue(id, this.scratch);
  }

  private get current(): MirrorService {
    if (!this.entry) throw new Error('MirrorTiers read before of()');
    return this.entry;
  }
}
