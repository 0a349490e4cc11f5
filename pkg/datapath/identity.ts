/*
 * What names a service and a backend, and when two of them are the same: one module, used by the
 * writer's mirror, drift repair, the reconciler and the lab, so that two spellings of an address
 * are one service everywhere and "programmed as planned" means one thing.
 */
import { ipv4ToNumber, parseIp } from '../ip/index.js';
import { type ParsedAddress, parseAddress } from './addr.js';
import { sameOutlier } from './outlier.js';
import {
  type BackendSpec,
  type BalanceName,
  MAX_TIERS,
  type ModeName,
  type OutlierSpec,
  type ProgrammedService,
  type ServiceKey,
  type ServiceSpec,
  type SpilloverSpec,
} from './types.js';

/**
 * "10.96.0.10:80/TCP", "[fd00::a]:80/UDP", with the address in canonical form. `canonical` skips
 * the parse when the caller has it; text that is no address is kept as it is.
 */
export function serviceKeyText(key: ServiceKey, canonical = canonicalText(key.address)): string {
  return canonical.includes(':') ? `[${canonical}]:${key.port}/${key.protocol}` : `${canonical}:${key.port}/${key.protocol}`;
}

/** A valid IPv4 text is its own canonical form (pkg/ip): checked without the parse's object. */
function canonicalText(address: string): string {
  return ipv4ToNumber(address) >= 0 ? address : (parseIp(address)?.address ?? address);
}

/**
 * Services share a backend by address and port. An IPv4 address:port is one number, address *
 * 65536 + port, below 2^48 and so exact in a double, indexed without a string per backend;
 * IPv6 keys are the canonical text and port.
 */
export type BackendKey = number | string;

export function ipv4BackendKey(address: number, port: number): number {
  return address * 65536 + port;
}

export function ipv6BackendKey(canonical: string, port: number): string {
  return `${canonical}#${port}`;
}

export function backendKey(address: Pick<ParsedAddress, 'family' | 'bytes' | 'canonical'>, port: number): BackendKey {
  if (address.family === 6) return ipv6BackendKey(address.canonical, port);
  const b = address.bytes;
  return ipv4BackendKey(((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0, port);
}

/** backendKey() of address text; undefined when the text is no address. */
export function backendKeyOf(address: string, port: number): BackendKey | undefined {
  try {
    return backendKey(parseAddress(address), port);
  } catch {
    return undefined;
  }
}

/** The same backend as the writer programs it: address text, port, node id and terminating flag. */
export function sameBackend(a: BackendSpec, b: BackendSpec): boolean {
  return a.address === b.address && a.port === b.port && a.nodeId === b.nodeId && a.terminating === b.terminating;
}

/**
 * Two specs, field for field and in the same order, label included: what tells a re-plan that
 * changed nothing, cheaply. Specs that differ only in order still program the same service
 * (see programmedAs()).
 */
export function sameSpec(a: ServiceSpec, b: ServiceSpec): boolean {
  if (a.mode !== b.mode || a.label !== b.label || a.tiers.length !== b.tiers.length) return false;
  if (balanceOf(a) !== balanceOf(b)) return false;
  if (!sameOutlier(a.outlier, b.outlier)) return false;
  if (affinityOf(a) !== affinityOf(b)) return false;
  if (!sameSpillover(a.spillover, b.spillover)) return false;
  if (a.key.address !== b.key.address || a.key.port !== b.key.port || a.key.protocol !== b.key.protocol) return false;
  const wa = a.weights ?? [];
  const wb = b.weights ?? [];
  if (wa.length !== wb.length || wa.some((w, i) => w !== wb[i])) return false;
  return a.tiers.every((tier, t) => {
    const other = b.tiers[t]!;
    return tier.length === other.length && tier.every((backend, i) => sameBackend(backend, other[i]!));
  });
}

/** The session affinity timeout a spec or programmed service has: 0 for none. */
export function affinityOf(s: { readonly affinitySeconds?: number | undefined }): number {
  return s.affinitySeconds ?? 0;
}

/** Whether two entries carry the same SPILLOVER counts, a missing tier reading as 0 (as encoded). */
export function sameSpillover(a: SpilloverSpec | undefined, b: SpilloverSpec | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.overprovisionPercent !== b.overprovisionPercent) return false;
  for (let t = 0; t < MAX_TIERS; t++) {
    if ((a.endpoints[t] ?? 0) !== (b.endpoints[t] ?? 0) || (a.ready[t] ?? 0) !== (b.ready[t] ?? 0)) return false;
  }
  return true;
}

/** The balance a spec programs: RANDOM when it names none. */
export function balanceOf(spec: Pick<ServiceSpec, 'balance'>): BalanceName {
  return spec.balance ?? 'RANDOM';
}

/**
 * Whether a balance gives slot positions a meaning: a MAGLEV tier is a lookup table whose slots
 * repeat backends in a set order; any other tier is a set of backends, one slot each, in any order.
 */
export function slotsAreTable(balance: BalanceName): boolean {
  return balance === 'MAGLEV';
}

/** The programmed side of programmedAs(): the writer's mirror, or a ProgrammedService. */
export interface ProgrammedTiers {
  readonly mode: ModeName;
  readonly balance: BalanceName;
  readonly weights: ArrayLike<number>;
  /** Passive-ejection settings; absent when the service never ejects. */
  readonly outlier?: OutlierSpec | undefined;
  /** Session affinity timeout in seconds; absent or 0 for none. */
  readonly affinitySeconds?: number | undefined;
  /** SPILLOVER's counts; absent when the entry has none. */
  readonly spillover?: SpilloverSpec | undefined;
  /** Slots tier `tier` holds. */
  tierSize(tier: number): number;
  /** Whether tier `tier` holds this backend (its address parsed): same address, port, node id and flag. */
  holds(tier: number, backend: BackendSpec, address: ParsedAddress): boolean;
  /** Whether slot `index` of tier `tier` holds this backend, as holds() compares it. */
  holdsAt(tier: number, index: number, backend: BackendSpec, address: ParsedAddress): boolean;
}

/**
 * Whether a service is programmed as `spec` says: the same mode and balance, the same weight for every
 * tier, and in every tier as many slots as the spec has backends, each one of the spec's. Slot
 * order is the writer's business (it moves slots to fill holes), so it does not count, except in
 * a table (slotsAreTable), where every slot must hold the spec's backend at its position.
 */
export function programmedAs(spec: ServiceSpec, have: ProgrammedTiers): boolean {
  if (have.mode !== spec.mode || have.balance !== balanceOf(spec)) return false;
  if (!sameOutlier(spec.outlier, have.outlier)) return false;
  if (affinityOf(spec) !== affinityOf(have)) return false;
  if (!sameSpillover(spec.spillover, have.spillover)) return false;
  for (let t = 0; t < MAX_TIERS; t++) if ((spec.weights?.[t] ?? 0) !== (have.weights[t] ?? 0)) return false;
  for (let t = 0; t < MAX_TIERS; t++) {
    const want = spec.tiers[t] ?? [];
    if (have.tierSize(t) !== want.length) return false;
    const table = slotsAreTable(balanceOf(spec));
    // A table repeats a few backends many times: each address is parsed once.
    const parsed = new Map<string, ParsedAddress>();
    for (let i = 0; i < want.length; i++) {
      const b = want[i]!;
      let address = parsed.get(b.address);
      if (address === undefined) {
        try {
          address = parseAddress(b.address);
        } catch {
          return false;
        }
        parsed.set(b.address, address);
      }
      if (!(table ? have.holdsAt(t, i, b, address) : have.holds(t, b, address))) return false;
    }
  }
  return true;
}

/**
 * programmedAs() against a ProgrammedService, as ServiceWriter.get() and readPinnedState() give
 * one. `ignoreNodeIds` is for a reader that does not know the agent's node numbering.
 */
export function sameService(spec: ServiceSpec, programmed: ProgrammedService, options: { readonly ignoreNodeIds?: boolean } = {}): boolean {
  if (serviceKeyText(spec.key) !== serviceKeyText(programmed.key)) return false;
  const tiers = programmed.tiers.map((tier) => {
    const byKey = new Map<BackendKey, BackendSpec>();
    for (const b of tier) {
      const key = backendKeyOf(b.address, b.port);
      if (key !== undefined) byKey.set(key, b);
    }
    return byKey;
  });
  return programmedAs(spec, {
    mode: programmed.mode,
    balance: programmed.balance,
    weights: programmed.weights,
    outlier: programmed.outlier,
    affinitySeconds: programmed.affinitySeconds,
    spillover: programmed.spillover,
    tierSize: (t) => programmed.tiers[t]?.length ?? 0,
    holds: (t, b, address) => {
      const p = tiers[t]?.get(backendKey(address, b.port));
      return p?.terminating === b.terminating && (options.ignoreNodeIds === true || p.nodeId === b.nodeId);
    },
    holdsAt: (t, i, b, address) => {
      const p = programmed.tiers[t]?.[i];
      return (
        p !== undefined &&
        backendKeyOf(p.address, p.port) === backendKey(address, b.port) &&
        p.terminating === b.terminating &&
        (options.ignoreNodeIds === true || p.nodeId === b.nodeId)
      );
    },
  });
}
