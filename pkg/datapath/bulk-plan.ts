/*
 * A bulk load of new services, planned without touching the kernel: ids for the new services
 * and backends, each service's slots, and the three batches (backends, slots, services)
 * encoded straight into one buffer per batch, in one pass over the specs. Every address is
 * parsed once; a backend shared with what is already programmed, or with another new service,
 * gets one id. Per backend and per slot nothing is allocated: a bulk load of 100,000 endpoints
 * spent more time collecting per-endpoint objects than the kernel spent writing the maps
 * (docs/performance.md, "The writer against C").
 */
import { BackendKeyIndex } from './backend-key-index.js';
import type { BackendTable } from './backend-table.js';
import { backendId, backendValue, slotKey, svcKey, svcValue } from './codecs.js';
import { InvalidServiceError } from './errors.js';
import { backendKey, balanceOf, slotsAreTable } from './identity.js';
import type { MapDump } from './map-dump.js';
import { type MirrorService, type ProgrammedBackends, weightsOf } from './mirror-service.js';
import { type BackendSpec, type BalanceName, MAX_TIERS, type ProgrammedBackend, type ServiceSpec } from './types.js';
import { validateService, validBackend, validIpv4Backend } from './validate.js';

/** Tiers this long or shorter are de-duplicated by a scan, longer ones through a Set. */
const SCAN_LIMIT = 32;

export interface BulkPlan {
  readonly services: readonly MirrorService[];
  /** The backends no programmed service names yet, in batch order. */
  readonly newBackends: {
    /** Their ids, as in the backends batch's keys. */
    readonly ids: Uint32Array;
    /** Their address texts, canonical. */
    readonly addresses: readonly string[];
    /** How many slots of this load name each: its reference count once the load is in. */
    readonly refs: Uint32Array;
    /** Their ids by BackendKey. */
    readonly index: BackendKeyIndex;
  };
  /** Backends programmed before this load that its slots name, once per slot. */
  readonly programmedRefs: readonly number[];
  /** Packed rows to write, in the safe order: backends, then slots, then services. */
  readonly batches: { readonly backends: MapDump; readonly slots: MapDump; readonly services: MapDump };
  readonly nextServiceId: number;
  readonly nextBackendId: number;
}

/**
 * `mirrorKeys[i]` is the key text (identity.ts) of `specs[i]`. Throws (InvalidServiceError, TypeError) if
 * any spec is invalid or listed twice: the caller then applies them one by one.
 */
export function planBulk(
  specs: readonly ServiceSpec[],
  mirrorKeys: readonly string[],
  programmed: BackendTable,
  ids: { readonly service: number; readonly backend: number; readonly next: (id: number) => number },
): BulkPlan {
  let total = 0;
  for (const spec of specs) total += endpointsOf(spec);
  // At most one new backend and one slot per endpoint: sized for that, cut to what was used.
  const backendKeys = Buffer.allocUnsafe(total * backendId.size);
  const backendValues = Buffer.allocUnsafe(total * backendValue.size);
  const newIds = new Uint32Array(total);
  const refs = new Uint32Array(total);
  const addresses: string[] = [];
  const slotKeys = Buffer.allocUnsafe(total * slotKey.size);
  const slotValues = Buffer.allocUnsafe(total * backendId.size);
  const svcKeys = Buffer.allocUnsafe(specs.length * svcKey.size);
  const svcValues = Buffer.allocUnsafe(specs.length * svcValue.size);
  const programmedRefs: number[] = [];
  // The new backends' ids by key.
  const fresh = new BackendKeyIndex();
  fresh.reserve(total);
  const anyProgrammed = programmed.size > 0;
  let newCount = 0;
  let slotCount = 0;
  let nextBackend = ids.backend;
  let nextService = ids.service;
  const services: MirrorService[] = [];
  const seen = new Set<string>();
  const counts = new Array<number>(MAX_TIERS).fill(0);

  for (let s = 0; s < specs.length; s++) {
    const spec = specs[s]!;
    const label = `${spec.label} ${mirrorKeys[s]}`;
    const ipv4 = validateService(spec, label) === 4;
    if (seen.has(mirrorKeys[s]!)) throw new InvalidServiceError(label, 'listed twice in one bulk load');
    seen.add(mirrorKeys[s]!);
    const svcId = nextService;
    const balance = balanceOf(spec);
    const table = slotsAreTable(balance);
    const endpoints = endpointsOf(spec);
    // Sized up front and cut once: this array is kept for the service's life (packed-tiers.ts).
    const tiers = new Array<number>(MAX_TIERS + endpoints);
    let used = MAX_TIERS;
    for (let t = 0; t < MAX_TIERS; t++) {
      const start = used;
      const tier = spec.tiers[t] ?? NO_BACKENDS;
      const inTier = tier.length > SCAN_LIMIT ? new Set<number>() : undefined;
      // Indexed: an iterator's result objects, one per endpoint, were a tenth of what a load allocated.
      // eslint-disable-next-line @typescript-eslint/prefer-for-of -- see above
      for (let e = 0; e < tier.length; e++) {
        const b = tier[e]!;
        // IPv4, nearly every backend, is checked, keyed and encoded as a number: no object.
        const v4 = ipv4 ? validIpv4Backend(b, label) : -1;
        const v6 = ipv4 ? undefined : validBackend(b, 6, label);
        // IPv4 keys go as their parts (BackendKeyIndex.getIpv4).
        const key = v6 ? backendKey(v6, b.port) : undefined;
        const signed = v4 | 0;
        let id = anyProgrammed ? (key !== undefined ? programmed.idOf(key) : programmed.idOfIpv4(signed, b.port)) : undefined;
        let k = -1;
        if (id === undefined) {
          id = key !== undefined ? fresh.get(key) : fresh.getIpv4(signed, b.port);
          if (id !== undefined) k = positionOf(id, ids.backend);
          else {
            k = newCount++;
            id = nextBackend;
            if (key !== undefined) fresh.set(key, id);
            else fresh.setIpv4(signed, b.port, id);
            newIds[k] = id;
            backendId.encode(id, backendKeys, k * backendId.size);
            nextBackend = ids.next(nextBackend);
            const at = k * backendValue.size;
            if (v6) backendValue.write(backendValues, at, v6, b.port, b.nodeId, b.terminating);
            else backendValue.writeIpv4(backendValues, at, v4, b.port, b.nodeId, b.terminating);
            // A valid IPv4 text is its own canonical form (pkg/ip).
            addresses.push(v6 ? v6.canonical : b.address);
          }
        }
        // A backend listed twice in a tier takes one slot, the first; in a table, every one.
        const repeated = !table && (inTier ? inTier.has(id) : includes(tiers, id, start, used));
        if (repeated) continue;
        inTier?.add(id);
        slotKey.write(slotKeys, slotCount * slotKey.size, svcId, t, used - start);
        backendId.encode(id, slotValues, slotCount * backendId.size);
        slotCount++;
        if (k >= 0) refs[k]!++;
        else programmedRefs.push(id);
        tiers[used++] = id;
      }
      tiers[t] = used;
      counts[t] = used - start;
    }
    tiers.length = used;
    const weights = weightsOf(spec.weights);
    svcKey.encode(spec.key, svcKeys, s * svcKey.size);
    svcValue.encode(
      { id: svcId, mode: spec.mode, balance, counts, weights, spillover: spec.spillover, affinitySeconds: spec.affinitySeconds },
      svcValues,
      s * svcValue.size,
    );
    services.push(mirrorEntry(spec, svcId, balance, weights, tiers));
    nextService = ids.next(nextService);
  }

  return {
    services,
    newBackends: { ids: newIds.subarray(0, newCount), addresses, refs: refs.subarray(0, newCount), index: fresh },
    programmedRefs,
    // Every byte of each row below its count was written above.
    batches: {
      backends: rows(newCount, backendKeys, backendValues, backendId.size, backendValue.size),
      slots: rows(slotCount, slotKeys, slotValues, slotKey.size, backendId.size),
      services: rows(specs.length, svcKeys, svcValues, svcKey.size, svcValue.size),
    },
    nextServiceId: nextService,
    nextBackendId: nextBackend,
  };
}

const NO_BACKENDS: readonly BackendSpec[] = [];

function endpointsOf(spec: ServiceSpec): number {
  let n = 0;
  for (const tier of spec.tiers) n += tier.length;
  return n;
}

/** The record of a new service; a plain literal for the usual one with no optional field, spreads cost more. */
function mirrorEntry(spec: ServiceSpec, id: number, balance: BalanceName, weights: readonly number[], tiers: number[]): MirrorService {
  const { key, label, mode, spillover, affinitySeconds } = spec;
  if (!spillover && !affinitySeconds) return { key, label, id, mode, balance, weights, tiers };
  return {
    key,
    label,
    id,
    mode,
    balance,
    weights,
    ...(spillover ? { spillover } : {}),
    tiers,
    ...(affinitySeconds ? { affinitySeconds } : {}),
  };
}

/** The first `count` rows of `keys` and `values`, as views. */
function rows(count: number, keys: Buffer, values: Buffer, keySize: number, valueSize: number): MapDump {
  return { count, keySize, valueSize, keys: keys.subarray(0, count * keySize), values: values.subarray(0, count * valueSize) };
}

/** Where new backend `id` is among a load's, its first new id being `first`: they were handed out in a row, wrapping from 2^32 - 1 to 1. */
function positionOf(id: number, first: number): number {
  return id >= first ? id - first : id - 1 + (0x100000000 - first);
}

function includes(a: readonly number[], v: number, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (a[i] === v) return true;
  return false;
}

/**
 * The backends a bulk load wrote, as toProgrammed() reads them: from their batch rows, with the
 * address text their specs gave (the canonical form), rather than formatted again from the
 * table's bytes once per endpoint. The rows never change, so the answer never does.
 */
export function newBackendsOf(plan: BulkPlan): ProgrammedBackends {
  const { ids, addresses } = plan.newBackends;
  const values = plan.batches.backends.values;
  const first = ids[0] ?? 0;
  return {
    programmed(id: number): ProgrammedBackend | undefined {
      const k = positionOf(id, first);
      if (ids[k] !== id) return undefined;
      const at = k * backendValue.size;
      return {
        id,
        address: addresses[k]!,
        port: backendValue.port(values, at),
        nodeId: backendValue.nodeId(values, at),
        terminating: backendValue.terminating(values, at),
      };
    },
  };
}
