/*
 * A bulk load of new services, planned without touching the kernel: ids for the new services
 * and backends, each service's slots, and the three batches (backends, slots, services)
 * encoded straight into one buffer per batch. Every address is parsed once; a backend shared
 * with what is already programmed, or with another new service, gets one id.
 */
import { BackendKeyIndex } from './backend-key-index.js';
import type { BackendTable } from './backend-table.js';
import { backendId, backendValue, slotKey, svcKey, svcValue } from './codecs.js';
import { InvalidServiceError } from './errors.js';
import { type BackendKey, backendKey, balanceOf, ipv4BackendKey, slotsAreTable } from './identity.js';
import type { MapDump } from './map-dump.js';
import { type MirrorService, type ProgrammedBackends, weightsOf } from './mirror-service.js';
import { tierCounts, tierEnd, tierStart } from './packed-tiers.js';
import { MAX_TIERS, type ProgrammedBackend, type ServiceSpec } from './types.js';
import { validateService, validBackend, validIpv4Backend } from './validate.js';

/** Tiers this long or shorter are de-duplicated by a scan, longer ones through a Set. */
const SCAN_LIMIT = 32;

export interface BulkPlan {
  readonly services: readonly MirrorService[];
  /** The backends no programmed service names yet, in batch order. */
  readonly newBackends: { readonly ids: readonly number[]; readonly keys: readonly BackendKey[]; readonly addresses: readonly string[] };
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
  const total = specs.reduce((n, s) => n + s.tiers.reduce((m, tier) => m + tier.length, 0), 0);
  const backendValues = Buffer.allocUnsafe(total * backendValue.size);
  const newIds: number[] = [];
  const newKeys: BackendKey[] = [];
  const addresses: string[] = [];
  const fresh = new BackendKeyIndex();
  let nextBackend = ids.backend;
  let nextService = ids.service;
  let slotCount = 0;
  const services: MirrorService[] = [];
  const seen = new Set<string>();

  fresh.reserve(total);
  for (let s = 0; s < specs.length; s++) {
    const spec = specs[s]!;
    const label = `${spec.label} ${mirrorKeys[s]}`;
    const ipv4 = validateService(spec, label).family === 4;
    if (seen.has(mirrorKeys[s]!)) throw new InvalidServiceError(label, 'listed twice in one bulk load');
    seen.add(mirrorKeys[s]!);
    const tiers = new Array<number>(MAX_TIERS).fill(MAX_TIERS);
    const table = slotsAreTable(balanceOf(spec));
    for (let t = 0; t < MAX_TIERS; t++) {
      const start = tiers.length;
      const tier = spec.tiers[t] ?? [];
      const inTier = tier.length > SCAN_LIMIT ? new Set<number>() : undefined;
      for (const b of tier) {
        // IPv4, nearly every backend, is checked, keyed and encoded as a number: no object.
        const v4 = ipv4 ? validIpv4Backend(b, label) : -1;
        const v6 = ipv4 ? undefined : validBackend(b, 6, label);
        const key = v6 ? backendKey(v6, b.port) : ipv4BackendKey(v4, b.port);
        let id = programmed.idOf(key) ?? fresh.get(key);
        if (id === undefined) {
          id = nextBackend;
          nextBackend = ids.next(nextBackend);
          fresh.set(key, id);
          const at = newIds.length * backendValue.size;
          if (v6) backendValue.write(backendValues, at, v6, b.port, b.nodeId, b.terminating);
          else backendValue.writeIpv4(backendValues, at, v4, b.port, b.nodeId, b.terminating);
          newIds.push(id);
          newKeys.push(key);
          // A valid IPv4 text is its own canonical form (pkg/ip).
          addresses.push(v6 ? v6.canonical : b.address);
        }
        // A backend listed twice in a tier takes one slot, the first; in a table, every one.
        const repeated = !table && (inTier ? inTier.has(id) : tiers.includes(id, start));
        if (repeated) continue;
        inTier?.add(id);
        tiers.push(id);
      }
      tiers[t] = tiers.length;
    }
    slotCount += tiers.length - MAX_TIERS;
    // slice() leaves the spare room push() made behind: this array is kept for the service's life.
    services.push({
      key: spec.key,
      label: spec.label,
      id: nextService,
      mode: spec.mode,
      balance: balanceOf(spec),
      weights: weightsOf(spec.weights),
      ...(spec.spillover ? { spillover: spec.spillover } : {}),
      tiers: tiers.slice(),
      ...(spec.affinitySeconds ? { affinitySeconds: spec.affinitySeconds } : {}),
    });
    nextService = ids.next(nextService);
  }

  return {
    services,
    newBackends: { ids: newIds, keys: newKeys, addresses },
    batches: {
      backends: backendBatch(newIds, backendValues),
      slots: slotBatch(services, slotCount),
      services: serviceBatch(services),
    },
    nextServiceId: nextService,
    nextBackendId: nextBackend,
  };
}

function backendBatch(ids: readonly number[], values: Buffer): MapDump {
  const keys = Buffer.allocUnsafe(ids.length * backendId.size);
  ids.forEach((id, i) => backendId.encode(id, keys, i * backendId.size));
  return { count: ids.length, keySize: backendId.size, valueSize: backendValue.size, keys, values };
}

function slotBatch(services: readonly MirrorService[], count: number): MapDump {
  const keys = Buffer.allocUnsafe(count * slotKey.size);
  const values = Buffer.allocUnsafe(count * backendId.size);
  let n = 0;
  for (const s of services) {
    for (let t = 0; t < MAX_TIERS; t++) {
      const start = tierStart(s.tiers, t);
      for (let i = start; i < tierEnd(s.tiers, t); i++, n++) {
        slotKey.write(keys, n * slotKey.size, s.id, t, i - start);
        backendId.encode(s.tiers[i]!, values, n * backendId.size);
      }
    }
  }
  return { count, keySize: slotKey.size, valueSize: backendId.size, keys, values };
}

function serviceBatch(services: readonly MirrorService[]): MapDump {
  const keys = Buffer.allocUnsafe(services.length * svcKey.size);
  const values = Buffer.allocUnsafe(services.length * svcValue.size);
  services.forEach((s, i) => {
    svcKey.encode(s.key, keys, i * svcKey.size);
    svcValue.encode(
      {
        id: s.id,
        mode: s.mode,
        balance: s.balance,
        counts: tierCounts(s.tiers),
        weights: s.weights,
        spillover: s.spillover,
        affinitySeconds: s.affinitySeconds,
      },
      values,
      i * svcValue.size,
    );
  });
  return { count: services.length, keySize: svcKey.size, valueSize: svcValue.size, keys, values };
}

/**
 * toProgrammed()'s backends right after a bulk load: a new backend is read from its batch row
 * with the address text its spec gave (the canonical form), rather than formatted again from
 * the table's bytes once per endpoint; any other one comes from the table.
 */
export function programmedAfter(plan: BulkPlan, table: BackendTable): ProgrammedBackends {
  const { ids, addresses } = plan.newBackends;
  const values = plan.batches.backends.values;
  const first = ids[0] ?? 0;
  return {
    programmed(id: number): ProgrammedBackend | undefined {
      // New ids were handed out in a row from the first, wrapping from 2^32 - 1 to 1.
      const k = id >= first ? id - first : id - 1 + (0x100000000 - first);
      if (ids[k] !== id) return table.programmed(id);
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
