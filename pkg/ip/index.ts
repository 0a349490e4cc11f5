/** pkg/ip: the project's one IP address parser and formatter; pure, no dependencies. */
export { addressSortKey, type IpAddress, type IpFamily, ipFromBytes, ipToBytes, ipv4ToNumber, isCanonicalIp, parseIp } from './parse.js';
