/*
 * The fields of each watched kind that the model reads, and nothing else. A watch cache that
 * keeps whole objects also keeps managedFields, kubectl's last-applied annotation, statuses and
 * uids: often several times the size of what nearby needs, times every object in the cluster.
 * Sources pass objects through keepReadFields() before caching them. It lives here, beside
 * from-k8s.ts, because a field the model starts reading must be added in both places.
 */
import { shareRawConditions } from './conditions.js';
import { isRecord, type RawRecord } from './read.js';
import { sharedPortList } from './shared-ports.js';

type Fields = Record<string, unknown>;

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function pick(source: RawRecord, fields: readonly string[]): Fields {
  const out: Fields = {};
  for (const field of fields) if (source[field] !== undefined) out[field] = source[field];
  return out;
}

function metadata(raw: RawRecord): Fields {
  const meta = raw['metadata'];
  if (!isRecord(meta)) return {};
  // resourceVersion stays: watch caches compare it to skip repeats.
  const out = pick(meta, ['name', 'namespace', 'labels', 'resourceVersion']);
  const annotations = meta['annotations'];
  if (isRecord(annotations)) {
    const kept: Fields = {};
    for (const [key, value] of Object.entries(annotations)) if (key !== LAST_APPLIED) kept[key] = value;
    out['annotations'] = kept;
  }
  return out;
}

const mapList = (value: unknown, fn: (item: RawRecord) => Fields): unknown =>
  Array.isArray(value) ? value.map((item: unknown) => (isRecord(item) ? fn(item) : item)) : value;

function endpoint(item: RawRecord): Fields {
  const out = pick(item, ['addresses', 'conditions', 'nodeName', 'zone', 'hints']);
  // Shared condition objects: the cache then holds one pointer per endpoint instead of an object,
  // and the model can take the endpoint as it is (see isModelShaped in from-k8s.ts).
  const conditions = out['conditions'];
  if (isRecord(conditions)) out['conditions'] = shareRawConditions(conditions) ?? conditions;
  const ref = item['targetRef'];
  if (isRecord(ref)) out['targetRef'] = pick(ref, ['kind', 'name', 'namespace']);
  return out;
}

const PORT_FIELDS = ['name', 'port', 'protocol'];

function ports(value: unknown): unknown {
  const list = mapList(value, (p) => pick(p, PORT_FIELDS));
  return Array.isArray(list) ? sharedPortList(list, PORT_FIELDS) : list;
}

/**
 * The object with only the fields the model reads; objects of other kinds come back as they are.
 * Built by adding fields one by one, never as `{ ...spread, more }`: V8 gives every object made
 * that way a hidden class of its own (~100 bytes each), which across a cluster's cached objects
 * was megabytes per cluster.
 */
export function keepReadFields(raw: unknown): unknown {
  if (!isRecord(raw)) return raw;
  const out = pick(raw, ['apiVersion', 'kind']);
  out['metadata'] = metadata(raw);
  switch (raw['kind']) {
    case 'Node':
    case 'Namespace':
      return out;
    case 'Service': {
      const spec = isRecord(raw['spec']) ? raw['spec'] : {};
      const kept = pick(spec, [
        'type',
        'clusterIP',
        'clusterIPs',
        'internalTrafficPolicy',
        'trafficDistribution',
        'sessionAffinity',
        'sessionAffinityConfig',
      ]);
      if (spec['ports'] !== undefined) kept['ports'] = ports(spec['ports']);
      out['spec'] = kept;
      return out;
    }
    case 'EndpointSlice':
      if (raw['addressType'] !== undefined) out['addressType'] = raw['addressType'];
      if (raw['ports'] !== undefined) out['ports'] = ports(raw['ports']);
      if (raw['endpoints'] !== undefined) out['endpoints'] = mapList(raw['endpoints'], endpoint);
      return out;
    case 'DestinationRule': {
      // Rules are few and small; the spec is kept whole, since what is not applied is reported by path.
      const meta = isRecord(raw['metadata']) ? raw['metadata'] : {};
      if (meta['creationTimestamp'] !== undefined) (out['metadata'] as Fields)['creationTimestamp'] = meta['creationTimestamp'];
      if (raw['spec'] !== undefined) out['spec'] = raw['spec'];
      return out;
    }
    default:
      return raw;
  }
}
