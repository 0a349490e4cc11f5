/*
 * What a source keeps of a remote cluster's objects: less than keepReadFields() keeps of a local
 * one, because the model reads less of them (clusters.ts). A remote Service contributes only its
 * existence, so its spec (VIPs, ports, policies) is not kept; a remote Node only its name and labels.
 * At 10,000 Services per remote cluster the specs alone were megabytes of every remote cache.
 *
 * What is dropped must never change what the model makes of the object, rejections included: a
 * remote Service the model would refuse is kept as keepReadFields() keeps it, so it is still
 * rejected by name, with the same message.
 */
import { convertObject } from './from-k8s.js';
import { isRecord, type RawRecord } from './read.js';
import { keepReadFields } from './read-fields.js';

type Fields = Record<string, unknown>;

/** kind, apiVersion and the metadata named, added one by one (see keepReadFields on hidden classes). */
function identityOnly(raw: RawRecord, metadataFields: readonly string[]): Fields {
  const out: Fields = {};
  if (raw['apiVersion'] !== undefined) out['apiVersion'] = raw['apiVersion'];
  if (raw['kind'] !== undefined) out['kind'] = raw['kind'];
  const meta = isRecord(raw['metadata']) ? raw['metadata'] : {};
  const kept: Fields = {};
  // resourceVersion stays, as in keepReadFields: watch caches compare it to skip repeats.
  for (const field of metadataFields) if (meta[field] !== undefined) kept[field] = meta[field];
  out['metadata'] = kept;
  return out;
}

const SERVICE_METADATA = ['name', 'namespace', 'resourceVersion'];
const NODE_METADATA = ['name', 'labels', 'resourceVersion'];

/** keepReadFields() for an object read from a remote cluster. */
export function keepRemoteReadFields(raw: unknown): unknown {
  const kept = keepReadFields(raw);
  if (!isRecord(kept)) return kept;
  switch (kept['kind']) {
    case 'Service':
      return convertObject(kept).status === 'accepted' ? identityOnly(kept, SERVICE_METADATA) : kept;
    case 'Node':
      // toNode() reads name and labels only; annotations cannot make a Node rejected.
      return identityOnly(kept, NODE_METADATA);
    default:
      return kept;
  }
}
