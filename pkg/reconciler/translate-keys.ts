/* Identity strings for datapath services and backends, shared by translation, diff and ids. */
import { parseIp } from '../ip/index.js';
import type { ServiceKey } from '../datapath/types.js';

/** Two spellings of one address must name one service or backend. */
function canonical(address: string): string {
  return parseIp(address)?.address ?? address;
}

export function serviceKeyText(key: ServiceKey): string {
  const address = canonical(key.address);
  return address.includes(':') ? `[${address}]:${key.port}/${key.protocol}` : `${address}:${key.port}/${key.protocol}`;
}

export function backendKey(address: string, port: number): string {
  return `${canonical(address)}#${port}`;
}
