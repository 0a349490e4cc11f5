import { clusterKey, type Endpoint, type EndpointSlice, type IpFamily, type ServicePort } from '../model/index.js';
import { usability } from './eligibility.js';
import type { Warning } from './types.js';

/** One endpoint address that could serve one Service port, before eligibility and ranking. */
export interface Candidate {
  readonly address: string;
  /** The target port from the slice's port of the same name. */
  readonly port: number;
  readonly endpoint: Endpoint;
  readonly conditions: Endpoint['conditions'];
  /** "namespace/name" of the slice it came from, qualified by clusterKey() for a remote cluster. */
  readonly slice: string;
}

export interface CandidateSearch {
  readonly candidates: readonly Candidate[];
  readonly warnings: readonly Warning[];
}

/** Up to this many candidates are told apart by a scan; past it, through a Map. */
const SCAN_LIMIT = 32;

/**
 * One candidate per address and port, in the order first met, each the most usable copy seen.
 * Most Services have a few endpoints per port, so a scan of the list does, where a Map and a key
 * string per endpoint were garbage on every plan.
 */
class DistinctCandidates {
  readonly list: Candidate[] = [];
  /** "address|port" -> position in list, once the list outgrows a scan. */
  private index: Map<string, number> | undefined;

  add(candidate: Candidate): void {
    const at = this.find(candidate);
    if (at >= 0) {
      if (usability(candidate.conditions) < usability(this.list[at]!.conditions)) this.list[at] = candidate;
      return;
    }
    this.index?.set(keyOf(candidate), this.list.length);
    this.list.push(candidate);
    if (!this.index && this.list.length > SCAN_LIMIT) this.index = new Map(this.list.map((c, i) => [keyOf(c), i]));
  }

  private find(candidate: Candidate): number {
    if (this.index) return this.index.get(keyOf(candidate)) ?? -1;
    for (let i = 0; i < this.list.length; i++) {
      const c = this.list[i]!;
      if (c.address === candidate.address && c.port === candidate.port) return i;
    }
    return -1;
  }
}

const keyOf = (c: Candidate): string => `${c.address}|${c.port}`;

function describePort(port: ServicePort): string {
  return `${JSON.stringify(port.name)} (${port.port}/${port.protocol})`;
}

/**
 * Every endpoint of the given family that serves the Service port, matched by port name.
 * An endpoint listed by two slices (which happens while the controller moves it between them)
 * appears once, keeping whichever copy is more usable.
 */
export function findCandidates(
  serviceKey: string,
  slices: readonly EndpointSlice[],
  family: IpFamily,
  servicePort: ServicePort,
): CandidateSearch {
  const addressType = family === 4 ? 'IPv4' : 'IPv6';
  const warnings: Warning[] = [];
  const distinct = new DistinctCandidates();
  let slicesWithEndpoints = 0;
  let slicesWithPort = 0;

  for (const slice of slices) {
    if (slice.addressType !== addressType) continue;
    const sliceName = clusterKey(slice.cluster, `${slice.namespace}/${slice.name}`);
    const hasEndpoints = slice.endpoints.some((e) => e.addresses.length > 0);
    if (hasEndpoints) slicesWithEndpoints++;
    const port = slice.ports.find((p) => p.name === servicePort.name);
    if (!port) continue;
    slicesWithPort++;
    if (port.port === null) {
      if (hasEndpoints) {
        warnings.push({
          code: 'port-unset',
          kind: 'EndpointSlice',
          name: sliceName,
          message:
            `port ${JSON.stringify(port.name)} has no port number, ` +
            `so its endpoints cannot serve Service port ${describePort(servicePort)}`,
        });
      }
      continue;
    }
    for (const endpoint of slice.endpoints) {
      // Every address of an endpoint is the same backend; the API says to use the first.
      const address = endpoint.addresses[0];
      if (address === undefined) continue;
      distinct.add({ address, port: port.port, endpoint, conditions: endpoint.conditions, slice: sliceName });
    }
  }

  if (slicesWithEndpoints > 0 && slicesWithPort === 0) {
    warnings.push({
      code: 'port-mismatch',
      kind: 'Service',
      name: serviceKey,
      message: `port ${describePort(servicePort)} matches no port of its ${addressType} EndpointSlices`,
    });
  }
  return { candidates: distinct.list, warnings };
}
