/** pkg/ip: the project's one IP address parser and formatter; pure, no dependencies. */
export { addressSortKey, type IpAddress, type IpFamily, ipFromBytes, ipToBytes, ipv4ToNumber, parseIp } from './parse.js';
