/*
 * The Service CIDR's first address, which the apiserver gives the `kubernetes` Service and which
 * therefore must be in the apiserver's serving certificate.
 */
import { ipFromBytes, ipToBytes } from '../../ip/index.js';
import { LabError } from '../errors.js';

export const DEFAULT_SERVICE_CIDR = '10.96.0.0/16';

export function firstServiceIp(cidr: string): string {
  const [address, lengthText] = cidr.split('/');
  const parsed = address !== undefined ? ipToBytes(address) : null;
  const length = Number(lengthText);
  const bits = parsed ? parsed.bytes.length * 8 : 0;
  if (!parsed || !/^\d+$/.test(lengthText ?? '') || length > bits - 2) {
    throw new LabError('usage', `serviceCidr ${cidr} is not an address/prefix-length range with room for Services`);
  }
  const bytes = Uint8Array.from(parsed.bytes);
  for (let bit = length; bit < bits; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  // +1 on the last byte cannot carry: the host part has at least two bits and was just zeroed.
  bytes[bytes.length - 1]! += 1;
  return ipFromBytes(bytes, parsed.family);
}
