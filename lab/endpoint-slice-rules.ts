/*
 * What an API server of the pinned release refuses in an EndpointSlice. The lab's Services get
 * their slices from its own controller, so an applied slice is not simulated; it is still checked,
 * so an address like 10.244.1.999 fails here as it would on a cluster, not later on one.
 */
import { enumProblem, ipListProblem, ipProblem } from './api-rules.js';

export const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'] as const;
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function endpointProblem(endpoint: unknown, addressType: string, field: string): string | undefined {
  if (!isRecord(endpoint)) return `${field}: Invalid value: expected an object`;
  const addresses = asList(endpoint['addresses']);
  if (addresses.length === 0) return `${field}.addresses: Required value: must contain at least 1 address`;
  if (addressType === 'FQDN') return undefined;
  const family = addressType === 'IPv6' ? 'IPv6' : 'IPv4';
  // A valid address of the other family is reported at the list, as the API server does.
  const problem = ipListProblem(addresses, `${field}.addresses`);
  if (problem) return problem;
  const other = addresses.find((a) => ipProblem(a, '', family));
  return other === undefined ? undefined : `${field}.addresses: Invalid value: ${JSON.stringify(other)}: must be an ${family} address`;
}

function portProblem(port: unknown, field: string): string | undefined {
  if (!isRecord(port)) return `${field}: Invalid value: expected an object`;
  const number = port['port'];
  if (number !== undefined && number !== null && (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 65535))
    return `${field}.port: Invalid value: ${JSON.stringify(number)}: must be between 1 and 65535, inclusive`;
  return enumProblem(port['protocol'], PROTOCOLS, `${field}.protocol`);
}

/** The first problem of an EndpointSlice's body, as "<field>: <problem>", or undefined. */
export function endpointSliceProblem(raw: Readonly<Record<string, unknown>>): string | undefined {
  const addressType = raw['addressType'];
  if (addressType === undefined || addressType === null) return 'addressType: Required value';
  const typeProblem = enumProblem(addressType, ADDRESS_TYPES, 'addressType');
  if (typeProblem) return typeProblem;
  for (const [i, endpoint] of asList(raw['endpoints']).entries()) {
    const problem = endpointProblem(endpoint, addressType as (typeof ADDRESS_TYPES)[number], `endpoints[${i}]`);
    if (problem) return problem;
  }
  for (const [i, port] of asList(raw['ports']).entries()) {
    const problem = portProblem(port, `ports[${i}]`);
    if (problem) return problem;
  }
  return undefined;
}
