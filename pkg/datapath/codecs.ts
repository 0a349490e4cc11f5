/*
 * Byte layouts of every map key and value in bpf/nearby.h, and their encoders/decoders.
 * STRUCTS is checked field by field against the compiled object's BTF by a test, so the C
 * header and this file cannot drift apart silently.
 */
import { endianness } from 'node:os';
import { type ParsedAddress, parseAddress, readAddress, writeAddress } from './addr.js';
import type { BalanceName, Family, ModeName, Protocol, SpilloverSpec } from './types.js';
import { Balance, MAX_TIERS, Mode } from './types.js';

export interface StructLayout {
  readonly size: number;
  /** field -> [byte offset, byte size] */
  readonly fields: Readonly<Record<string, readonly [number, number]>>;
}

export const STRUCTS = {
  nearby_svc_key: { size: 20, fields: { addr: [0, 16], port: [16, 2], proto: [18, 1], family: [19, 1] } },
  nearby_svc_value: {
    size: 76,
    fields: {
      id: [0, 4],
      mode: [4, 1],
      balance: [5, 1],
      overprovision: [6, 2],
      count: [8, 16],
      weight: [24, 16],
      endpoints: [40, 16],
      ready: [56, 16],
      affinity_s: [72, 4],
    },
  },
  nearby_slot_key: { size: 8, fields: { svc_id: [0, 4], tier: [4, 2], index: [6, 2] } },
  nearby_backend: { size: 24, fields: { addr: [0, 16], port: [16, 2], family: [18, 1], flags: [19, 1], node_id: [20, 4] } },
  nearby_sock_meta: {
    size: 48,
    fields: {
      vip: [0, 16],
      vip_port: [16, 2],
      family: [18, 1],
      tier: [19, 1],
      svc_id: [20, 4],
      backend_id: [24, 4],
      backend_addr: [28, 16],
      backend_port: [44, 2],
      conn_open: [46, 1],
      outcome: [47, 1],
    },
  },
  nearby_rev_key: { size: 32, fields: { cookie: [0, 8], addr: [8, 16], port: [24, 2], family: [26, 1], reserved: [27, 5] } },
  nearby_rev_value: { size: 20, fields: { addr: [0, 16], port: [16, 2], reserved: [18, 2] } },
  nearby_counter_key: { size: 8, fields: { svc_id: [0, 4], tier: [4, 4] } },
  nearby_counter_value: { size: 32, fields: { attempts: [0, 8], established: [8, 8], failed: [16, 8], refused: [24, 8] } },
  nearby_outlier: { size: 24, fields: { consecutive: [0, 4], max_percent: [4, 4], base_ns: [8, 8], interval_ns: [16, 8] } },
  nearby_backend_health: {
    size: 32,
    fields: { ejected_until: [0, 8], decay_from: [8, 8], failures: [16, 4], multiplier: [20, 4], ejections: [24, 4], svc_id: [28, 4] },
  },
  nearby_affinity_key: { size: 16, fields: { client: [0, 8], svc_id: [8, 4], reserved: [12, 4] } },
  nearby_affinity: { size: 16, fields: { last_ns: [0, 8], backend_id: [8, 4], tier: [12, 2], index: [14, 2] } },
  nearby_control: { size: 24, fields: { heartbeat_ns: [0, 8], fail_open_ns: [8, 8], layout: [16, 4], reserved: [20, 4] } },
  nearby_svc_ejections: {
    size: 216,
    fields: { lock: [0, 4], ejections: [4, 4], until: [8, 128], backend: [136, 64], tier: [200, 16] },
  },
} as const satisfies Record<string, StructLayout>;

const LE = endianness() === 'LE';
const AF_INET = 2;
const AF_INET6 = 10;
const IPPROTO: Record<Protocol, number> = { TCP: 6, UDP: 17 };
const BACKEND_TERMINATING = 0x1;

const off = <S extends keyof typeof STRUCTS>(s: S, f: keyof (typeof STRUCTS)[S]['fields']): number =>
  (STRUCTS[s].fields as Record<string, readonly [number, number]>)[f as string]![0];

// Host-order integers: the kernel compares these as native words.
const u16 = (b: Buffer, o: number, v: number): void => {
  if (LE) b.writeUInt16LE(v, o);
  else b.writeUInt16BE(v, o);
};
const u32 = (b: Buffer, o: number, v: number): void => {
  if (LE) b.writeUInt32LE(v, o);
  else b.writeUInt32BE(v, o);
};
const r16 = (b: Buffer, o: number): number => (LE ? b.readUInt16LE(o) : b.readUInt16BE(o));
const r32 = (b: Buffer, o: number): number => (LE ? b.readUInt32LE(o) : b.readUInt32BE(o));
const r64 = (b: Buffer, o: number): bigint => (LE ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
const w64 = (b: Buffer, o: number, v: bigint): void => {
  if (LE) b.writeBigUInt64LE(v, o);
  else b.writeBigUInt64BE(v, o);
};

const toAf = (f: Family): number => (f === 4 ? AF_INET : AF_INET6);
const fromAf = (af: number): Family => (af === AF_INET ? 4 : 6);
const MODE_NAMES = new Map((Object.keys(Mode) as ModeName[]).map((k) => [Mode[k] as number, k]));
const modeName = (m: number): ModeName => MODE_NAMES.get(m) ?? 'RANDOM';
const BALANCE_NAMES = new Map((Object.keys(Balance) as BalanceName[]).map((k) => [Balance[k] as number, k]));
// An unknown value reads as RANDOM, which is also what the kernel does with it.
const balanceName = (b: number): BalanceName => BALANCE_NAMES.get(b) ?? 'RANDOM';

export interface SvcKey {
  address: string;
  port: number;
  protocol: Protocol;
}

const KEY_ADDR = off('nearby_svc_key', 'addr');
const KEY_PORT = off('nearby_svc_key', 'port');
const KEY_PROTO = off('nearby_svc_key', 'proto');
const KEY_FAMILY = off('nearby_svc_key', 'family');

export const svcKey = {
  size: STRUCTS.nearby_svc_key.size,
  encode(k: SvcKey, buf = Buffer.alloc(STRUCTS.nearby_svc_key.size), at = 0): Buffer {
    buf.fill(0, at, at + STRUCTS.nearby_svc_key.size);
    const family = writeAddress(buf, at + KEY_ADDR, k.address);
    buf.writeUInt16BE(k.port, at + KEY_PORT); // network order
    buf.writeUInt8(IPPROTO[k.protocol], at + KEY_PROTO);
    buf.writeUInt8(toAf(family), at + KEY_FAMILY);
    return buf;
  },
  decode(buf: Buffer, at = 0): SvcKey {
    const family = fromAf(buf.readUInt8(at + KEY_FAMILY));
    return {
      address: readAddress(buf, at + KEY_ADDR, family),
      port: buf.readUInt16BE(at + KEY_PORT),
      protocol: buf.readUInt8(at + KEY_PROTO) === IPPROTO.UDP ? 'UDP' : 'TCP',
    };
  },
};

export interface SvcValue {
  id: number;
  mode: ModeName;
  /** nearby_svc_value.balance: how a connect picks inside the chosen tier. */
  balance: BalanceName;
  counts: number[];
  weights: number[];
  /** nearby_svc_value.affinity_s: session affinity timeout in seconds; 0 = none. */
  affinitySeconds: number;
  /** SPILLOVER only: the tiers' endpoint counts and overprovisioning factor; absent when all 0. */
  spillover?: SpilloverSpec;
}

const SVC_ID = off('nearby_svc_value', 'id');
const SVC_MODE = off('nearby_svc_value', 'mode');
const SVC_BALANCE = off('nearby_svc_value', 'balance');
const SVC_COUNT = off('nearby_svc_value', 'count');
const SVC_WEIGHT = off('nearby_svc_value', 'weight');
const SVC_AFFINITY = off('nearby_svc_value', 'affinity_s');
const SVC_OVERPROVISION = off('nearby_svc_value', 'overprovision');
const SVC_ENDPOINTS = off('nearby_svc_value', 'endpoints');
const SVC_READY = off('nearby_svc_value', 'ready');

export const svcValue = {
  size: STRUCTS.nearby_svc_value.size,
  encode(
    v: {
      readonly id: number;
      readonly mode: ModeName;
      /** RANDOM when absent, as in an entry written before the field existed. */
      readonly balance?: BalanceName;
      readonly counts: ArrayLike<number>;
      readonly weights: ArrayLike<number>;
      /** No session affinity when absent or 0. */
      readonly affinitySeconds?: number | undefined;
      readonly spillover?: SpilloverSpec | undefined;
    },
    buf = Buffer.alloc(STRUCTS.nearby_svc_value.size),
    at = 0,
  ): Buffer {
    buf.fill(0, at, at + STRUCTS.nearby_svc_value.size);
    u32(buf, at + SVC_ID, v.id);
    buf.writeUInt8(Mode[v.mode], at + SVC_MODE);
    buf.writeUInt8(Balance[v.balance ?? 'RANDOM'], at + SVC_BALANCE);
    // Zeros are already there: most fields of most entries are 0, and a bulk load encodes
    // tens of thousands of entries.
    const { counts, weights, spillover } = v;
    for (let t = 0; t < MAX_TIERS; t++) {
      if (counts[t]) u16(buf, at + SVC_COUNT + 2 * t, counts[t]!);
      if (weights[t]) u16(buf, at + SVC_WEIGHT + 2 * t, weights[t]!);
    }
    if (spillover) {
      for (let t = 0; t < MAX_TIERS; t++) {
        u16(buf, at + SVC_ENDPOINTS + 2 * t, spillover.endpoints[t] ?? 0);
        u16(buf, at + SVC_READY + 2 * t, spillover.ready[t] ?? 0);
      }
      u16(buf, at + SVC_OVERPROVISION, spillover.overprovisionPercent);
    }
    if (v.affinitySeconds) u32(buf, at + SVC_AFFINITY, v.affinitySeconds);
    return buf;
  },
  decode(buf: Buffer, at = 0): SvcValue {
    const counts: number[] = [];
    const weights: number[] = [];
    const endpoints: number[] = [];
    const ready: number[] = [];
    for (let t = 0; t < MAX_TIERS; t++) {
      counts.push(r16(buf, at + SVC_COUNT + 2 * t));
      weights.push(r16(buf, at + SVC_WEIGHT + 2 * t));
      endpoints.push(r16(buf, at + SVC_ENDPOINTS + 2 * t));
      ready.push(r16(buf, at + SVC_READY + 2 * t));
    }
    const overprovisionPercent = r16(buf, at + SVC_OVERPROVISION);
    const spilling = overprovisionPercent !== 0 || endpoints.some((n) => n !== 0) || ready.some((n) => n !== 0);
    return {
      ...(spilling ? { spillover: { overprovisionPercent, endpoints, ready } } : {}),
      id: r32(buf, at + SVC_ID),
      mode: modeName(buf.readUInt8(at + SVC_MODE)),
      balance: balanceName(buf.readUInt8(at + SVC_BALANCE)),
      counts,
      weights,
      affinitySeconds: r32(buf, at + SVC_AFFINITY),
    };
  },
};

export interface SlotKey {
  svcId: number;
  tier: number;
  index: number;
}

const SLOT_SVC_ID = off('nearby_slot_key', 'svc_id');
const SLOT_TIER = off('nearby_slot_key', 'tier');
const SLOT_INDEX = off('nearby_slot_key', 'index');

export const slotKey = {
  size: STRUCTS.nearby_slot_key.size,
  encode(k: SlotKey, buf = Buffer.alloc(STRUCTS.nearby_slot_key.size), at = 0): Buffer {
    slotKey.write(buf, at, k.svcId, k.tier, k.index);
    return buf;
  },
  /** encode() without a key object, for bulk writes of a hundred thousand slots. */
  write(buf: Buffer, at: number, svcId: number, tier: number, index: number): void {
    u32(buf, at + SLOT_SVC_ID, svcId);
    u16(buf, at + SLOT_TIER, tier);
    u16(buf, at + SLOT_INDEX, index);
  },
  decode(buf: Buffer, at = 0): SlotKey {
    return { svcId: r32(buf, at + SLOT_SVC_ID), tier: r16(buf, at + SLOT_TIER), index: r16(buf, at + SLOT_INDEX) };
  },
  /**
   * One number per slot of a tier below MAX_TIERS, for indexing a few hundred thousand slots
   * without a string each: 32 + 3 + 16 bits fit a double exactly.
   */
  number: (svcId: number, tier: number, index: number): number => svcId * 0x80000 + tier * 0x10000 + index,
  /** number() of the key at buf[at..], read without decoding it into an object. */
  numberAt: (buf: Buffer, at = 0): number =>
    slotKey.number(r32(buf, at + SLOT_SVC_ID), r16(buf, at + SLOT_TIER), r16(buf, at + SLOT_INDEX)),
  tierAt: (buf: Buffer, at = 0): number => r16(buf, at + SLOT_TIER),
  fromNumber(n: number): SlotKey {
    const low = n % 0x80000;
    return { svcId: (n - low) / 0x80000, tier: low >>> 16, index: low & 0xffff };
  },
};

/** slot values and backend keys are a bare __u32 backend id. */
export const backendId = {
  size: 4,
  encode(id: number, buf = Buffer.alloc(4), at = 0): Buffer {
    u32(buf, at, id);
    return buf;
  },
  decode: (buf: Buffer, at = 0): number => r32(buf, at),
};

export interface BackendValue {
  address: string;
  port: number;
  nodeId: number;
  terminating: boolean;
}

const BACKEND_ADDR = off('nearby_backend', 'addr');
const BACKEND_PORT = off('nearby_backend', 'port');
const BACKEND_FAMILY = off('nearby_backend', 'family');
const BACKEND_FLAGS = off('nearby_backend', 'flags');
const BACKEND_NODE_ID = off('nearby_backend', 'node_id');

export const backendValue = {
  size: STRUCTS.nearby_backend.size,
  encode(v: BackendValue, buf = Buffer.alloc(STRUCTS.nearby_backend.size), at = 0): Buffer {
    backendValue.write(buf, at, parseAddress(v.address), v.port, v.nodeId, v.terminating);
    return buf;
  },
  /** encode() from an address already parsed, so a bulk load parses each address once. */
  write(
    buf: Buffer,
    at: number,
    address: Pick<ParsedAddress, 'family' | 'bytes'>,
    port: number,
    nodeId: number,
    terminating: boolean,
  ): void {
    // Every byte is written below when the address has its 16: no zeroing pass first.
    if (address.bytes.length !== 16) buf.fill(0, at, at + STRUCTS.nearby_backend.size);
    buf.set(address.bytes, at + BACKEND_ADDR);
    buf.writeUInt16BE(port, at + BACKEND_PORT);
    buf.writeUInt8(toAf(address.family), at + BACKEND_FAMILY);
    buf.writeUInt8(terminating ? BACKEND_TERMINATING : 0, at + BACKEND_FLAGS);
    u32(buf, at + BACKEND_NODE_ID, nodeId);
  },
  /** write() for an IPv4 address held as one number (first octet highest), as a bulk load has it. */
  writeIpv4(buf: Buffer, at: number, address: number, port: number, nodeId: number, terminating: boolean): void {
    buf.writeUInt32BE(address, at + BACKEND_ADDR);
    // Three words rather than fill(): a call into C++ costs more than the 12 bytes.
    for (let o = 4; o < 16; o += 4) buf.writeUInt32LE(0, at + BACKEND_ADDR + o);
    buf.writeUInt16BE(port, at + BACKEND_PORT);
    buf.writeUInt8(AF_INET, at + BACKEND_FAMILY);
    buf.writeUInt8(terminating ? BACKEND_TERMINATING : 0, at + BACKEND_FLAGS);
    u32(buf, at + BACKEND_NODE_ID, nodeId);
  },
  /**
   * Copies a value as this writer would have written it: the address bytes its family uses,
   * the known flag, and zeros elsewhere. Whatever else a kernel copy held is left behind.
   */
  normalise(src: Buffer, srcAt: number, dst: Buffer, dstAt: number): void {
    const family = backendValue.family(src, srcAt);
    dst.fill(0, dstAt, dstAt + STRUCTS.nearby_backend.size);
    src.copy(dst, dstAt + BACKEND_ADDR, srcAt + BACKEND_ADDR, srcAt + BACKEND_ADDR + (family === 4 ? 4 : 16));
    dst.writeUInt16BE(backendValue.port(src, srcAt), dstAt + BACKEND_PORT);
    dst.writeUInt8(toAf(family), dstAt + BACKEND_FAMILY);
    dst.writeUInt8(backendValue.terminating(src, srcAt) ? BACKEND_TERMINATING : 0, dstAt + BACKEND_FLAGS);
    u32(dst, dstAt + BACKEND_NODE_ID, backendValue.nodeId(src, srcAt));
  },
  decode(buf: Buffer, at = 0): BackendValue {
    const family = backendValue.family(buf, at);
    return {
      address: readAddress(buf, at + BACKEND_ADDR, family),
      port: backendValue.port(buf, at),
      nodeId: backendValue.nodeId(buf, at),
      terminating: backendValue.terminating(buf, at),
    };
  },
  // Single fields, read without decoding the address.
  family: (buf: Buffer, at = 0): Family => fromAf(buf.readUInt8(at + BACKEND_FAMILY)),
  port: (buf: Buffer, at = 0): number => buf.readUInt16BE(at + BACKEND_PORT),
  nodeId: (buf: Buffer, at = 0): number => r32(buf, at + BACKEND_NODE_ID),
  terminating: (buf: Buffer, at = 0): boolean => (buf.readUInt8(at + BACKEND_FLAGS) & BACKEND_TERMINATING) !== 0,
  /** The IPv4 address as one unsigned number (network order read big-endian). */
  ipv4: (buf: Buffer, at = 0): number => buf.readUInt32BE(at + BACKEND_ADDR),
};

export interface CounterKey {
  svcId: number;
  tier: number;
}

export const counterKey = {
  size: STRUCTS.nearby_counter_key.size,
  encode(k: CounterKey, buf = Buffer.alloc(STRUCTS.nearby_counter_key.size), at = 0): Buffer {
    u32(buf, at + off('nearby_counter_key', 'svc_id'), k.svcId);
    u32(buf, at + off('nearby_counter_key', 'tier'), k.tier);
    return buf;
  },
  decode(buf: Buffer, at = 0): CounterKey {
    return {
      svcId: r32(buf, at + off('nearby_counter_key', 'svc_id')),
      tier: r32(buf, at + off('nearby_counter_key', 'tier')),
    };
  },
};

export interface CounterValue {
  attempts: bigint;
  established: bigint;
  failed: bigint;
  refused: bigint;
}

export const counterValue = {
  size: STRUCTS.nearby_counter_value.size,
  /** Sums the per-CPU copies; each CPU's value is padded to 8 bytes (it already is). */
  decodePerCpu(buf: Buffer, cpus: number): CounterValue {
    const sum: CounterValue = { attempts: 0n, established: 0n, failed: 0n, refused: 0n };
    for (let c = 0; c < cpus; c++) {
      const at = c * STRUCTS.nearby_counter_value.size;
      sum.attempts += r64(buf, at + off('nearby_counter_value', 'attempts'));
      sum.established += r64(buf, at + off('nearby_counter_value', 'established'));
      sum.failed += r64(buf, at + off('nearby_counter_value', 'failed'));
      sum.refused += r64(buf, at + off('nearby_counter_value', 'refused'));
    }
    return sum;
  },
};

/** nearby_outlier: a service's passive-ejection settings, as the kernel applies them. */
export interface OutlierValue {
  /** Failed TCP connects in a row that eject a backend; 0 turns ejection off. */
  consecutive: number;
  /** maxEjectionPercent, 0..100. */
  maxPercent: number;
  baseEjectionNs: bigint;
  intervalNs: bigint;
}

export const outlierValue = {
  size: STRUCTS.nearby_outlier.size,
  encode(v: OutlierValue, buf = Buffer.alloc(STRUCTS.nearby_outlier.size), at = 0): Buffer {
    buf.fill(0, at, at + STRUCTS.nearby_outlier.size);
    u32(buf, at + off('nearby_outlier', 'consecutive'), v.consecutive);
    u32(buf, at + off('nearby_outlier', 'max_percent'), v.maxPercent);
    w64(buf, at + off('nearby_outlier', 'base_ns'), v.baseEjectionNs);
    w64(buf, at + off('nearby_outlier', 'interval_ns'), v.intervalNs);
    return buf;
  },
  decode(buf: Buffer, at = 0): OutlierValue {
    return {
      consecutive: r32(buf, at + off('nearby_outlier', 'consecutive')),
      maxPercent: r32(buf, at + off('nearby_outlier', 'max_percent')),
      baseEjectionNs: r64(buf, at + off('nearby_outlier', 'base_ns')),
      intervalNs: r64(buf, at + off('nearby_outlier', 'interval_ns')),
    };
  },
};

/** nearby_backend_health, written by sock_ops. Times are CLOCK_MONOTONIC nanoseconds. */
export interface BackendHealth {
  ejectedUntilNs: bigint;
  decayFromNs: bigint;
  failures: number;
  multiplier: number;
  ejections: number;
  svcId: number;
}

export const backendHealth = {
  size: STRUCTS.nearby_backend_health.size,
  /** Only sock_ops writes these rows; tests encode one to put a backend in a state that takes minutes to reach. */
  encode(v: BackendHealth): Buffer {
    const buf = Buffer.alloc(STRUCTS.nearby_backend_health.size);
    w64(buf, off('nearby_backend_health', 'ejected_until'), v.ejectedUntilNs);
    w64(buf, off('nearby_backend_health', 'decay_from'), v.decayFromNs);
    u32(buf, off('nearby_backend_health', 'failures'), v.failures);
    u32(buf, off('nearby_backend_health', 'multiplier'), v.multiplier);
    u32(buf, off('nearby_backend_health', 'ejections'), v.ejections);
    u32(buf, off('nearby_backend_health', 'svc_id'), v.svcId);
    return buf;
  },
  decode(buf: Buffer, at = 0): BackendHealth {
    return {
      ejectedUntilNs: r64(buf, at + off('nearby_backend_health', 'ejected_until')),
      decayFromNs: r64(buf, at + off('nearby_backend_health', 'decay_from')),
      failures: r32(buf, at + off('nearby_backend_health', 'failures')),
      multiplier: r32(buf, at + off('nearby_backend_health', 'multiplier')),
      ejections: r32(buf, at + off('nearby_backend_health', 'ejections')),
      svcId: r32(buf, at + off('nearby_backend_health', 'svc_id')),
    };
  },
};

/** nearby_svc_ejections: the ejections a service has in force, and its ejections ever. */
export interface SvcEjections {
  ejections: number;
  /** One per slot: a backend id and its deadline; a deadline in the past is a free slot. */
  slots: Array<{ backendId: number; untilNs: bigint; tier: number }>;
}

/** NEARBY_MAX_EJECTED: slots in nearby_svc_ejections (8-byte deadlines). */
export const MAX_EJECTED = STRUCTS.nearby_svc_ejections.fields.until[1] / 8;

export const svcEjections = {
  size: STRUCTS.nearby_svc_ejections.size,
  decode(buf: Buffer, at = 0): SvcEjections {
    const until = at + off('nearby_svc_ejections', 'until');
    const backend = at + off('nearby_svc_ejections', 'backend');
    const tier = at + off('nearby_svc_ejections', 'tier');
    const slots: SvcEjections['slots'] = [];
    for (let i = 0; i < MAX_EJECTED; i++) {
      slots.push({ backendId: r32(buf, backend + 4 * i), untilNs: r64(buf, until + 8 * i), tier: buf.readUInt8(tier + i) });
    }
    return { ejections: r32(buf, at + off('nearby_svc_ejections', 'ejections')), slots };
  },
};

/** nearby_affinity_key and nearby_affinity: a client's remembered backend (read by tests and tools). */
export interface AffinityKey {
  /** The client's network namespace cookie. */
  client: bigint;
  svcId: number;
}

export interface AffinityValue {
  /** bpf_ktime_get_ns() of the client's last connect through the row. */
  lastNs: bigint;
  backendId: number;
  tier: number;
  index: number;
}

export const affinityRow = {
  keySize: STRUCTS.nearby_affinity_key.size,
  valueSize: STRUCTS.nearby_affinity.size,
  decodeKey(buf: Buffer, at = 0): AffinityKey {
    return { client: r64(buf, at + off('nearby_affinity_key', 'client')), svcId: r32(buf, at + off('nearby_affinity_key', 'svc_id')) };
  },
  decodeValue(buf: Buffer, at = 0): AffinityValue {
    return {
      lastNs: r64(buf, at + off('nearby_affinity', 'last_ns')),
      backendId: r32(buf, at + off('nearby_affinity', 'backend_id')),
      tier: r16(buf, at + off('nearby_affinity', 'tier')),
      index: r16(buf, at + off('nearby_affinity', 'index')),
    };
  },
};

/** nearby_control: the agent's heartbeat, fail-open bound and layout version (bpf/nearby.h). */
export interface Control {
  /** CLOCK_MONOTONIC ns of the last renewal. */
  heartbeatNs: bigint;
  /** 0n = never fail open. */
  failOpenNs: bigint;
  layout: number;
}

export const control = {
  size: STRUCTS.nearby_control.size,
  encode(v: Control, buf = Buffer.alloc(STRUCTS.nearby_control.size)): Buffer {
    w64(buf, off('nearby_control', 'heartbeat_ns'), v.heartbeatNs);
    w64(buf, off('nearby_control', 'fail_open_ns'), v.failOpenNs);
    u32(buf, off('nearby_control', 'layout'), v.layout);
    return buf;
  },
  decode(buf: Buffer): Control {
    return {
      heartbeatNs: r64(buf, off('nearby_control', 'heartbeat_ns')),
      failOpenNs: r64(buf, off('nearby_control', 'fail_open_ns')),
      layout: r32(buf, off('nearby_control', 'layout')),
    };
  },
};
