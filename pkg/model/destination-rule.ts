/*
 * DestinationRule -> model, with Istio's own validation of localityLbSetting. A rule Istio would
 * refuse is refused here too, by a named code, and only that rule is affected: it then counts as
 * absent, so the Services it names keep the policy they had without it.
 */
import { MAX_TIERS } from '../contract/index.js';
import {
  BadField,
  isRecord,
  readList,
  readOptionalBoolean,
  readOptionalPort,
  readOptionalString,
  readRecord,
  readRequiredString,
  type RawRecord,
} from './read.js';
import {
  SIMPLE_LB_NAMES,
  type ConsistentHashKind,
  type DestinationRule,
  type HashTable,
  type LoadBalancer,
  type LocalityDistribute,
  type LocalityFailover,
  type LocalityLbSetting,
  type PortLoadBalancer,
  type SimpleLbName,
} from './destination-rule-types.js';
import type { OutlierSettings } from '../contract/index.js';
import { OUTLIER_FIELDS_READ, readOutlierDetection } from './outlier-detection.js';
import { ISTIO_SUBZONE_LABEL, KUBERNETES_SUBZONE_LABEL, REGION_LABEL, ZONE_LABEL } from './topology-labels.js';

/** Labels Istio refuses in failoverPriority when failover is also set: they are what failover orders by. */
const LOCALITY_LABELS: ReadonlySet<string> = new Set([REGION_LABEL, ZONE_LABEL, ISTIO_SUBZONE_LABEL, KUBERNETES_SUBZONE_LABEL]);

const TRAFFIC_POLICY_READ = new Set(['loadBalancer', 'portLevelSettings', 'outlierDetection']);
const PORT_POLICY_READ = new Set(['port', 'loadBalancer', 'outlierDetection']);
const LOAD_BALANCER_READ = new Set(['simple', 'consistentHash', 'localityLbSetting']);
const HASH_KEYS: readonly ConsistentHashKind[] = ['httpHeaderName', 'httpCookie', 'httpQueryParameterName'];

const quote = (value: string): string => JSON.stringify(value);

/**
 * A locality as Istio writes it: "region", "region/zone" or "region/zone/subzone", no part empty,
 * `*` only as a whole last part (or alone).
 */
export function localityProblem(locality: string): string | undefined {
  if (locality === '*') return undefined;
  const parts = locality.split('/');
  if (parts.length > 3) return 'has more than region/zone/subzone';
  if (parts.some((p) => p === '')) return 'has an empty region, zone or subzone';
  const star = parts.findIndex((p) => p.includes('*'));
  if (star >= 0 && (star !== parts.length - 1 || parts[star] !== '*')) return "may hold '*' only as its whole last part";
  return undefined;
}

function checkLocality(locality: string, path: string): void {
  const problem = localityProblem(locality);
  if (problem) throw new BadField('dr-bad-locality', path, `locality ${quote(locality)} ${problem}`);
}

function readDistribute(setting: RawRecord, path: string): LocalityDistribute[] {
  const seenFrom = new Set<string>();
  return readList(setting, 'distribute', path).map((item, i) => {
    const where = `${path}.distribute[${i}]`;
    if (!isRecord(item)) throw new BadField('wrong-type', where, 'expected an object');
    const from = readRequiredString(item, 'from', where);
    checkLocality(from, `${where}.from`);
    if (seenFrom.has(from)) throw new BadField('dr-bad-locality', `${where}.from`, `locality ${quote(from)} repeats an earlier from`);
    seenFrom.add(from);
    const toRecord = readRecord(item, 'to', where);
    const to = Object.entries(toRecord).map(([locality, weight]) => {
      const at = `${where}.to[${quote(locality)}]`;
      checkLocality(locality, at);
      if (typeof weight !== 'number') throw new BadField('wrong-type', at, `expected a weight, got ${typeof weight}`);
      if (!Number.isInteger(weight) || weight < 1 || weight > 100) {
        throw new BadField('dr-weight-out-of-range', at, `weight ${weight} is not a whole number from 1 to 100`);
      }
      return { locality, weight };
    });
    if (to.length === 0) throw new BadField('missing-field', `${where}.to`, 'missing: a distribute entry needs target localities');
    if (to.length > MAX_TIERS) {
      throw new BadField('dr-too-many-localities', `${where}.to`, `${to.length} localities; nearby weighs at most ${MAX_TIERS}`);
    }
    const total = to.reduce((sum, t) => sum + t.weight, 0);
    if (total !== 100) throw new BadField('dr-weights-not-100', `${where}.to`, `weights sum to ${total}, not 100`);
    return { from, to };
  });
}

function readFailover(setting: RawRecord, path: string): LocalityFailover[] {
  return readList(setting, 'failover', path).map((item, i) => {
    const where = `${path}.failover[${i}]`;
    if (!isRecord(item)) throw new BadField('wrong-type', where, 'expected an object');
    const from = readRequiredString(item, 'from', where);
    const to = readRequiredString(item, 'to', where);
    // failover names regions only (Istio), so a slash is a bad locality here.
    for (const [field, value] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (value.includes('/')) throw new BadField('dr-bad-locality', `${where}.${field}`, `${quote(value)} is not a region`);
    }
    if (to.includes('*')) throw new BadField('dr-failover-wildcard', `${where}.to`, `${quote(to)}: failover.to may not hold '*'`);
    if (from === to) throw new BadField('dr-failover-same-region', where, `from and to are both ${quote(from)}`);
    return { from, to };
  });
}

function readFailoverPriority(setting: RawRecord, path: string): string[] {
  return readList(setting, 'failoverPriority', path).map((item, i) => {
    if (typeof item !== 'string' || item === '') {
      throw new BadField('wrong-type', `${path}.failoverPriority[${i}]`, 'expected a label name or label=value');
    }
    return item;
  });
}

function readLocalityLbSetting(lb: RawRecord, path: string): LocalityLbSetting | undefined {
  if (lb['localityLbSetting'] === undefined || lb['localityLbSetting'] === null) return undefined;
  const where = `${path}.localityLbSetting`;
  const setting = readRecord(lb, 'localityLbSetting', path);
  const enabled = readOptionalBoolean(setting, 'enabled', where);
  const distribute = readDistribute(setting, where);
  const failover = readFailover(setting, where);
  const failoverPriority = readFailoverPriority(setting, where);
  if (distribute.length > 0 && failover.length > 0) {
    throw new BadField('dr-distribute-and-failover', where, 'distribute and failover are both set; Istio allows one');
  }
  if (failover.length > 0) {
    const clash = failoverPriority.find((p) => LOCALITY_LABELS.has(p.split('=', 1)[0]!));
    if (clash !== undefined) {
      throw new BadField(
        'dr-failover-with-topology-priority',
        `${where}.failoverPriority`,
        `names ${quote(clash)} while failover is set; Istio refuses the two together`,
      );
    }
  }
  return { ...(enabled !== undefined ? { enabled } : {}), distribute, failover, failoverPriority };
}

function readSimple(lb: RawRecord, path: string): SimpleLbName | undefined {
  const simple = readOptionalString(lb, 'simple', path);
  if (simple === undefined) return undefined;
  if (!(SIMPLE_LB_NAMES as readonly string[]).includes(simple)) {
    throw new BadField('unknown-enum', `${path}.simple`, `unknown load balancer ${quote(simple)}`);
  }
  return simple as SimpleLbName;
}

function readConsistentHash(lb: RawRecord, path: string): ConsistentHashKind | undefined {
  if (lb['consistentHash'] === undefined || lb['consistentHash'] === null) return undefined;
  const hash = readRecord(lb, 'consistentHash', path);
  if (hash['useSourceIp'] === true) return 'useSourceIp';
  return HASH_KEYS.find((key) => hash[key] !== undefined && hash[key] !== null) ?? 'other';
}

function readTableSize(parent: RawRecord, field: string, path: string): number | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new BadField('wrong-type', `${path}.${field}`, `expected a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** maglev, ringHash, or the deprecated consistentHash.minimumRingSize (a ring hash). */
function readHashTable(lb: RawRecord, path: string): HashTable | undefined {
  if (lb['consistentHash'] === undefined || lb['consistentHash'] === null) return undefined;
  const where = `${path}.consistentHash`;
  const hash = readRecord(lb, 'consistentHash', path);
  const table = (kind: HashTable['kind'], size: number | undefined): HashTable => ({ kind, ...(size !== undefined ? { size } : {}) });
  if (isRecord(hash['maglev'])) return table('maglev', readTableSize(hash['maglev'], 'tableSize', `${where}.maglev`));
  if (isRecord(hash['ringHash'])) return table('ringHash', readTableSize(hash['ringHash'], 'minimumRingSize', `${where}.ringHash`));
  const legacy = readTableSize(hash, 'minimumRingSize', where);
  return legacy !== undefined ? table('ringHash', legacy) : undefined;
}

/** Fields of `record` nearby neither reads nor needs, as paths; connectionPool's are listed one level down. */
function unreadFields(record: RawRecord, read: ReadonlySet<string>, path: string, out: string[]): void {
  for (const [field, value] of Object.entries(record)) {
    if (read.has(field) || value === undefined || value === null) continue;
    if (field === 'connectionPool' && isRecord(value)) {
      for (const [inner, innerValue] of Object.entries(value)) {
        if (innerValue !== undefined && innerValue !== null) out.push(`${path}.connectionPool.${inner}`);
      }
    } else {
      out.push(`${path}.${field}`);
    }
  }
}

function readLoadBalancer(policy: RawRecord, path: string, notApplied: string[]): LoadBalancer | undefined {
  if (policy['loadBalancer'] === undefined || policy['loadBalancer'] === null) return undefined;
  const where = `${path}.loadBalancer`;
  const lb = readRecord(policy, 'loadBalancer', path);
  const simple = readSimple(lb, where);
  const consistentHash = readConsistentHash(lb, where);
  const hashTable = readHashTable(lb, where);
  const localityLbSetting = readLocalityLbSetting(lb, where);
  unreadFields(lb, LOAD_BALANCER_READ, where, notApplied);
  return {
    ...(simple !== undefined ? { simple } : {}),
    ...(consistentHash !== undefined ? { consistentHash } : {}),
    ...(hashTable !== undefined ? { hashTable } : {}),
    ...(localityLbSetting !== undefined ? { localityLbSetting } : {}),
  };
}

function readPortLevelSettings(policy: RawRecord, path: string, notApplied: string[]): PortLoadBalancer[] {
  const seen = new Set<number>();
  return readList(policy, 'portLevelSettings', path).map((item, i) => {
    const where = `${path}.portLevelSettings[${i}]`;
    if (!isRecord(item)) throw new BadField('wrong-type', where, 'expected an object');
    const number = readOptionalPort(readRecord(item, 'port', where), 'number', `${where}.port`);
    if (number === undefined) throw new BadField('missing-field', `${where}.port.number`, 'missing');
    if (seen.has(number)) throw new BadField('duplicate-port', `${where}.port.number`, `port ${number} has settings already`);
    seen.add(number);
    const loadBalancer = readLoadBalancer(item, where, notApplied);
    unreadFields(item, PORT_POLICY_READ, where, notApplied);
    return { port: number, ...(loadBalancer ? { loadBalancer } : {}) };
  });
}

export function toDestinationRule(raw: RawRecord): DestinationRule {
  const metadata = readRecord(raw, 'metadata', '');
  const name = readRequiredString(metadata, 'name', 'metadata');
  const namespace = readOptionalString(metadata, 'namespace', 'metadata') || 'default';
  const creationTimestamp = readOptionalString(metadata, 'creationTimestamp', 'metadata') ?? '';
  const spec = readRecord(raw, 'spec', '');
  const host = readRequiredString(spec, 'host', 'spec');
  const exportTo = readList(spec, 'exportTo', 'spec').map((item, i) => {
    if (typeof item !== 'string' || item === '')
      throw new BadField('wrong-type', `spec.exportTo[${i}]`, 'expected a namespace, "." or "*"');
    return item;
  });
  const notApplied: string[] = [];
  if (readList(spec, 'subsets', 'spec').length > 0) notApplied.push('spec.subsets');
  const policy = readRecord(spec, 'trafficPolicy', 'spec');
  const loadBalancer = readLoadBalancer(policy, 'spec.trafficPolicy', notApplied);
  const portLevelSettings = readPortLevelSettings(policy, 'spec.trafficPolicy', notApplied);
  unreadFields(policy, TRAFFIC_POLICY_READ, 'spec.trafficPolicy', notApplied);
  const outlierDetection = readRuleOutlier(policy, notApplied);
  const selector = spec['workloadSelector'];
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    creationTimestamp,
    host,
    exportTo,
    hasWorkloadSelector: selector !== undefined && selector !== null,
    ...(loadBalancer ? { loadBalancer } : {}),
    portLevelSettings,
    ...(outlierDetection ? { outlierDetection } : {}),
    notApplied,
  };
}

function readRuleOutlier(policy: RawRecord, notApplied: string[]): OutlierSettings | undefined {
  const path = 'spec.trafficPolicy.outlierDetection';
  const outlier = policy['outlierDetection'];
  if (outlier === undefined || outlier === null) return undefined;
  if (!isRecord(outlier)) throw new BadField('wrong-type', path, 'expected an object');
  unreadFields(outlier, OUTLIER_FIELDS_READ, path, notApplied);
  return readOutlierDetection(outlier, path, 'dr-bad-outlier');
}
