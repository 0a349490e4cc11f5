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
  const byAddress = new Map<string, Candidate>();
  let slicesWithEndpoints = 0;
  let slicesWithPort = 0;
  // Keyed by the address alone for the first target port met and by "address|port" for any
  // other: a Service's slices nearly always agree on it, and a key string per endpoint was
  // garbage on every plan. Addresses here are IPs, which hold no "|", so keys never collide.
  let firstPort: number | undefined;

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
      const candidate: Candidate = { address, port: port.port, endpoint, conditions: endpoint.conditions, slice: sliceName };
      const key = port.port === (firstPort ??= port.port) ? address : `${address}|${port.port}`;
      const seen = byAddress.get(key);
      if (!seen || usability(candidate.conditions) < usability(seen.conditions)) byAddress.set(key, candidate);
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
  return { candidates: [...byAddress.values()], warnings };
}
