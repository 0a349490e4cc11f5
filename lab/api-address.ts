/*
 * Where a control-plane lab publishes its API server, as a real cluster publishes it through the
 * `kubernetes` Service: at an address of its own that the lab's pods can reach, which the API
 * server binds, advertises, and writes into default/kubernetes's Endpoints and EndpointSlice
 * itself (docs/nearbyctl.md, "The API server's address").
 *
 * The address is a /32 from a range of its own, never the pod or Service range: it lives in the
 * host's namespace (where the API server runs, next to its clients: the controllers, the agents,
 * kubectl), so it must be unique on the machine, and a pod range may be any /16 a kind config
 * names, even the same one in two labs. Pure: lab/api-link.ts does the plumbing.
 */
import { hashedDeviceName } from './device-names.js';
import { LabError } from './errors.js';

/** Labs' API server addresses: 172.30.<index>.1, one index per lab running on the machine. */
export const API_ADDRESS_RANGE = '172.30.0.0/16';
const API_ADDRESS = /^172\.30\.(\d{1,3})\.1$/;
export const MAX_API_ADDRESSES = 256;

/** kubeadm's and kind's secure port: the address is the lab's own, so no other listener can hold it. */
export const API_SERVER_PORT = 6443;

/** The veth end in the lab's bridge namespace; every lab has its own bridge namespace, so one name does. */
export const API_BRIDGE_DEVICE = 'nbapi';

/**
 * Replies from the API server leave by source-address policy routing (ip rule from <address>
 * lookup <table>), so two labs with the same pod range each get their replies on their own veth.
 * The priority sits before the main table's (32766); the local table (0) still comes first, so
 * host-side clients of the address are untouched.
 */
export const API_RULE_PRIORITY = 7230;
const API_TABLE_BASE = 7_230_000;

export function apiAddress(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_API_ADDRESSES)
    throw new LabError('system', `API address index ${index} is outside 0-${MAX_API_ADDRESSES - 1}`);
  return `172.30.${index}.1`;
}

/** The index of a lab API address, or undefined for any other address. */
export function apiAddressIndex(address: string): number | undefined {
  const match = API_ADDRESS.exec(address);
  const index = match ? Number(match[1]) : NaN;
  return Number.isInteger(index) && index < MAX_API_ADDRESSES ? index : undefined;
}

/** The routing table holding the way back from the address with this index to its lab's pods. */
export function apiRoutingTable(index: number): number {
  return API_TABLE_BASE + index;
}

/** The first API address no interface of the host holds. */
export function chooseApiAddress(hostAddresses: Iterable<string>): { index: number; address: string } {
  const taken = new Set<number>();
  for (const address of hostAddresses) {
    const index = apiAddressIndex(address);
    if (index !== undefined) taken.add(index);
  }
  for (let index = 0; index < MAX_API_ADDRESSES; index++) if (!taken.has(index)) return { index, address: apiAddress(index) };
  throw new LabError('system', `all ${MAX_API_ADDRESSES} API server addresses of ${API_ADDRESS_RANGE} are in use on this machine`);
}

/** The veth end in the host's namespace, named for the lab so `lab down` and leftover cleanup find it without a record. */
export function apiHostDevice(lab: string): string {
  return hashedDeviceName('nba', lab);
}

/** The API server's URL at its published address. */
export function apiServerUrl(address: string, port: number): string {
  return `https://${address}:${port}`;
}

/** The ip command, for a namespace's batch, that makes the lab's API server reachable on-link through `device`. */
export function apiServerRouteCommand(address: string, device = 'eth0'): string {
  return `route add ${address}/32 dev ${device}`;
}
