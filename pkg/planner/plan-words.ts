/*
 * The words for how much a plan holds, shared by `nearbyctl plan` and the agent's /readyz so
 * both count the same things by the same names: a Service is "intercepted" when nearby plans it
 * (it may have several VIPs and ports), and each (VIP, port, protocol) of it is one "VIP:port
 * entry" in the maps. Neither may say "services" for entries.
 */

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function servicesText(n: number): string {
  return count(n, 'service', 'services');
}

export function entriesText(n: number): string {
  return count(n, 'VIP:port entry', 'VIP:port entries');
}

/** "2 services intercepted (3 VIP:port entries)". */
export function interceptedText(services: number, entries: number): string {
  return `${servicesText(services)} intercepted (${entriesText(entries)})`;
}

/** "3 VIP:port entries of 2 services not programmed". lab/waiting.ts looks for "not programmed". */
export function notProgrammedText(services: number, entries: number): string {
  return `${entriesText(entries)} of ${servicesText(services)} not programmed`;
}
