/*
 * The Service CIDR's first address, which the apiserver gives the `kubernetes` Service and which
 * therefore must be in the apiserver's serving certificate.
 */
import { ipFromBytes, ipToBytes } from '../../pkg/ip/index.js';
import { LabError } from '../errors.js';

export const DEFAULT_SERVICE_CIDR = '10.96.0.0/16';

/** The apiserver refuses a Service range of fewer than 8 addresses. */
const MIN_HOST_BITS = 3;

export function firstServiceIp(cidr: string): string {
  const [address, lengthText, ...rest] = cidr.split('/');
  const parsed = address !== undefined ? ipToBytes(address) : null;
  // ipToBytes holds IPv4 in the first 4 of its 16 bytes.
  const size = parsed?.family === 4 ? 4 : 16;
  const length = Number(lengthText);
  if (!parsed || rest.length > 0 || !/^\d+$/.test(lengthText ?? '') || length > size * 8 - MIN_HOST_BITS) {
    throw new LabError('usage', `serviceCidr ${cidr} is not an address/prefix-length range of at least ${2 ** MIN_HOST_BITS} addresses`);
  }
  const bytes = parsed.bytes.slice(0, size);
  for (let bit = length; bit < size * 8; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  // +1 on the last byte cannot carry: the host part has at least three bits and was just zeroed.
  bytes[size - 1]! += 1;
  return ipFromBytes(bytes, parsed.family);
}
