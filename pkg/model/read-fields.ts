/*
 * The fields of each watched kind that the model reads, and nothing else. A watch cache that
 * keeps whole objects also keeps managedFields, kubectl's last-applied annotation, statuses and
 * uids: often several times the size of what nearby needs, times every object in the cluster.
 * Sources pass objects through keepReadFields() before caching them. It lives here, beside
 * from-k8s.ts, because a field the model starts reading must be added in both places.
 */
import { shareRawConditions } from './conditions.js';
import { isRecord, type RawRecord } from './read.js';

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
    const { [LAST_APPLIED]: _dropped, ...rest } = annotations;
    out['annotations'] = rest;
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

/** The object with only the fields the model reads; objects of other kinds come back as they are. */
export function keepReadFields(raw: unknown): unknown {
  if (!isRecord(raw)) return raw;
  const head = { ...pick(raw, ['apiVersion', 'kind']), metadata: metadata(raw) };
  switch (raw['kind']) {
    case 'Node':
    case 'Namespace':
      return head;
    case 'Service': {
      const spec = isRecord(raw['spec']) ? raw['spec'] : {};
      return {
        ...head,
        spec: {
          ...pick(spec, [
            'type',
            'clusterIP',
            'clusterIPs',
            'internalTrafficPolicy',
            'trafficDistribution',
            'sessionAffinity',
            'sessionAffinityConfig',
          ]),
          ...(spec['ports'] !== undefined ? { ports: mapList(spec['ports'], (p) => pick(p, ['name', 'port', 'protocol'])) } : {}),
        },
      };
    }
    case 'EndpointSlice':
      return {
        ...head,
        ...pick(raw, ['addressType']),
        ...(raw['ports'] !== undefined ? { ports: mapList(raw['ports'], (p) => pick(p, ['name', 'port', 'protocol'])) } : {}),
        ...(raw['endpoints'] !== undefined ? { endpoints: mapList(raw['endpoints'], endpoint) } : {}),
      };
    case 'DestinationRule': {
      // Rules are few and small; the spec is kept whole, since what is not applied is reported by path.
      const meta = isRecord(raw['metadata']) ? raw['metadata'] : {};
      return { ...head, metadata: { ...head.metadata, ...pick(meta, ['creationTimestamp']) }, ...pick(raw, ['spec']) };
    }
    default:
      return raw;
  }
}
