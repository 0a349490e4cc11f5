/*
 * Which remote clusters' endpoints can be dialled (docs/multi-cluster.md, "Networks"): those on
 * the client's network, compared by topology.istio.io/network (both unset counts as equal).
 * An endpoint of another network would need Istio's east-west gateway, which nearby does not
 * program, so it is left out and a warning says so. Local endpoints are never left out: they
 * keep the network-first ranking of the built-in policies.
 */
import type { Candidate } from './candidates.js';
import { endpointLocality, nodeLocality, type ResolvedLocality } from './locality.js';
import type { Warning } from './types.js';
import type { Snapshot } from '../model/index.js';

export interface NetworkContext {
  readonly snapshot: Snapshot;
  readonly client: ResolvedLocality;
  readonly warn: (warning: Warning) => void;
}

/** The network of a locality; unknown counts as unset, as Istio's default network is "". */
export function networkOf(resolved: ResolvedLocality): string {
  return resolved.locality.network ?? '';
}

/**
 * Whether a remote endpoint lies on the client's network; local endpoints always pass. The
 * network is its Node's, as endpointLocality() would give it (a zone field or a bare node name
 * carries none), read without building a locality per endpoint: every remote endpoint of every
 * Service is asked on each full plan.
 */
export function remoteReachable(snapshot: Snapshot, client: ResolvedLocality, candidate: Candidate): boolean {
  const { endpoint } = candidate;
  if (endpoint.cluster === undefined) return true;
  const node = endpoint.nodeName === undefined ? undefined : snapshot.nodes.get(endpoint.nodeName);
  return (node ? (nodeLocality(node).network ?? '') : '') === networkOf(client);
}

/** The candidates this node can dial directly, warning about each remote one it cannot. */
export function dialable(candidates: readonly Candidate[], context: NetworkContext): readonly Candidate[] {
  if (!candidates.some((c) => c.endpoint.cluster !== undefined)) return candidates;
  return candidates.filter((candidate) => {
    if (remoteReachable(context.snapshot, context.client, candidate)) return true;
    const theirs = networkOf(endpointLocality(context.snapshot, candidate.endpoint));
    context.warn({
      code: 'remote-other-network',
      kind: 'EndpointSlice',
      name: candidate.slice,
      message:
        `endpoint ${candidate.address} of cluster ${candidate.endpoint.cluster ?? '?'} is on network ${JSON.stringify(theirs)}, ` +
        `not this node's ${JSON.stringify(networkOf(context.client))}: skipped, as reaching it needs an east-west gateway`,
    });
    return false;
  });
}
