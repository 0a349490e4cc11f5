/*
 * Checks a ServiceSpec before anything is written, and hands back every address it parsed on
 * the way (VIP and backends, in tier order), so the writer does not parse them again.
 */
import { type ParsedAddress, parseAddress } from './addr.js';
import { InvalidServiceError } from './errors.js';
import { ipv4ToNumber } from '../ip/index.js';
import {
  type BackendSpec,
  Balance,
  type Family,
  MAX_TIER_SIZE,
  MAX_TIERS,
  type OutlierSpec,
  type ServiceSpec,
  type SpilloverSpec,
} from './types.js';

export interface ValidSpec {
  readonly vip: ParsedAddress;
  /** Each backend's address, tier after tier, in the spec's order. */
  readonly backends: readonly ParsedAddress[];
}

/** Throws InvalidServiceError naming `label`, or TypeError for text that is not an address. */
export function validateSpec(spec: ServiceSpec, label: string): ValidSpec {
  const vip = validateShape(spec, label);
  const backends: ParsedAddress[] = [];
  for (const tier of spec.tiers) for (const b of tier) backends.push(validBackend(b, vip.family, label));
  validateSettings(spec, label);
  return { vip, backends };
}

/**
 * Everything validateSpec() checks but the backends' addresses and ports, for a caller that
 * checks each backend as it reaches it (validBackend, validIpv4Backend). Returns the VIP's
 * family; an IPv4 VIP, nearly every one, is checked without an object.
 */
export function validateService(spec: ServiceSpec, label: string): Family {
  const family: Family = ipv4ToNumber(spec.key.address) >= 0 ? 4 : parseAddress(spec.key.address).family;
  validateLimits(spec, label);
  validateSettings(spec, label);
  return family;
}

function validateShape(spec: ServiceSpec, label: string): ParsedAddress {
  const vip = parseAddress(spec.key.address);
  validateLimits(spec, label);
  return vip;
}

function validateLimits(spec: ServiceSpec, label: string): void {
  if (spec.tiers.length > MAX_TIERS) throw new InvalidServiceError(label, `${spec.tiers.length} tiers, at most ${MAX_TIERS}`);
  if (!(spec.key.port > 0 && spec.key.port < 65536)) throw new InvalidServiceError(label, `bad port ${spec.key.port}`);
  // A loop, not forEach(): no closure per service checked.
  for (let t = 0; t < spec.tiers.length; t++) {
    const size = spec.tiers[t]!.length;
    if (size > MAX_TIER_SIZE) throw new InvalidServiceError(label, `tier ${t} has ${size} endpoints`);
  }
}

function validateSettings(spec: ServiceSpec, label: string): void {
  if (spec.mode === 'WEIGHTED' && !(spec.weights ?? []).some((w) => w > 0)) {
    throw new InvalidServiceError(label, 'WEIGHTED mode needs at least one positive tier weight');
  }
  if (spec.balance !== undefined && !Object.hasOwn(Balance, spec.balance)) {
    throw new InvalidServiceError(label, `unknown balance ${spec.balance}`);
  }
  if (spec.outlier) validateOutlier(spec.outlier, label);
  if ((spec.mode === 'SPILLOVER') !== (spec.spillover !== undefined)) {
    throw new InvalidServiceError(label, 'SPILLOVER mode and its tier counts go together');
  }
  if (spec.spillover) validateSpillover(spec.spillover, label);
  const affinity = spec.affinitySeconds ?? 0;
  if (!(Number.isInteger(affinity) && affinity >= 0 && affinity <= 0xffffffff)) {
    throw new InvalidServiceError(label, `affinity timeout ${affinity} s`);
  }
}

/** One backend of a service whose VIP is of `family`: its address parsed, or a throw. */
export function validBackend(b: BackendSpec, family: Family, label: string): ParsedAddress {
  const address = parseAddress(b.address);
  if (address.family !== family) throw notLikeVip(b, family, label);
  if (!validPort(b.port)) throw badBackendPort(b, label);
  return address;
}

/**
 * validBackend() for an IPv4 service, without an object: the address as one unsigned number
 * (first octet highest), for a bulk load that checks 100,000 of them.
 */
export function validIpv4Backend(b: BackendSpec, label: string): number {
  const address = ipv4ToNumber(b.address);
  if (address < 0) {
    // The general path names what is wrong: text that is no address, or an IPv6 one.
    validBackend(b, 4, label);
    throw notLikeVip(b, 4, label);
  }
  if (!validPort(b.port)) throw badBackendPort(b, label);
  return address;
}

const validPort = (port: number): boolean => port > 0 && port < 65536;
const notLikeVip = (b: BackendSpec, family: Family, label: string): InvalidServiceError =>
  new InvalidServiceError(label, `backend ${b.address} is not IPv${family} like the VIP`);
const badBackendPort = (b: BackendSpec, label: string): InvalidServiceError =>
  new InvalidServiceError(label, `backend ${b.address} has bad port ${b.port}`);

function validateSpillover(s: SpilloverSpec, label: string): void {
  const u16 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffff;
  if (!u16(s.overprovisionPercent) || s.overprovisionPercent === 0) {
    throw new InvalidServiceError(label, `overprovisioning factor ${s.overprovisionPercent}%`);
  }
  if (s.endpoints.length > MAX_TIERS || s.ready.length > MAX_TIERS || ![...s.endpoints, ...s.ready].every(u16)) {
    throw new InvalidServiceError(label, `spillover counts ${JSON.stringify([s.endpoints, s.ready])}`);
  }
}

function validateOutlier(o: OutlierSpec, label: string): void {
  const whole = (v: number, min: number, max: number): boolean => Number.isInteger(v) && v >= min && v <= max;
  if (!whole(o.consecutiveFailures, 1, 0xffffffff)) throw new InvalidServiceError(label, `outlier threshold ${o.consecutiveFailures}`);
  if (!whole(o.maxEjectionPercent, 0, 100)) throw new InvalidServiceError(label, `maxEjectionPercent ${o.maxEjectionPercent}`);
  if (!whole(o.baseEjectionMs, 1, Number.MAX_SAFE_INTEGER)) throw new InvalidServiceError(label, `baseEjectionTime ${o.baseEjectionMs} ms`);
  if (!whole(o.intervalMs, 1, Number.MAX_SAFE_INTEGER)) throw new InvalidServiceError(label, `interval ${o.intervalMs} ms`);
}
