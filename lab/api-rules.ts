/*
 * The API server's rules for the fields the file-backed lab takes, so that the lab refuses what a
 * cluster of the pinned release refuses, with the same field paths: label keys and values,
 * annotation keys, the Service enums nearby reads, and IP fields. Messages follow apimachinery's
 * ("Invalid value: ...", "Unsupported value: ...") without its regex dumps.
 */

import { isIP } from 'node:net';

const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const NAME_MAX = 63;
const PREFIX_MAX = 253;

/** Service spec.trafficDistribution values the pinned release accepts. */
export const TRAFFIC_DISTRIBUTIONS = ['PreferClose', 'PreferSameZone', 'PreferSameNode'] as const;
export const INTERNAL_TRAFFIC_POLICIES = ['Cluster', 'Local'] as const;

const invalid = (value: string, why: string): string => `Invalid value: ${JSON.stringify(value)}: ${why}`;

/** Why `key` is no label or annotation key (a qualified name: [prefix/]name), or undefined. */
export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return invalid(key, 'a qualified name must be an optional DNS subdomain prefix and a name, joined by one "/"');
  const [prefix, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [undefined, parts[0]!];
  if (prefix !== undefined) {
    if (prefix.length === 0) return invalid(key, 'prefix part must be non-empty');
    if (prefix.length > PREFIX_MAX) return invalid(key, `prefix part must be no more than ${PREFIX_MAX} characters`);
    if (!DNS_SUBDOMAIN.test(prefix)) return invalid(key, 'prefix part must be a lowercase RFC 1123 subdomain');
  }
  if (name.length === 0) return invalid(key, 'name part must be non-empty');
  if (name.length > NAME_MAX) return invalid(key, `name part must be no more than ${NAME_MAX} characters`);
  if (!QUALIFIED_NAME.test(name))
    return invalid(
      key,
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
    );
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > NAME_MAX) return invalid(value, `must be no more than ${NAME_MAX} characters`);
  if (!LABEL_VALUE.test(value))
    return invalid(
      value,
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
    );
  return undefined;
}

/** Label keys and values; the first problem, as "<field>: <problem>". */
export function labelsProblem(labels: Readonly<Record<string, string>>, field: string): string | undefined {
  for (const [key, value] of Object.entries(labels)) {
    const problem = qualifiedNameProblem(key) ?? labelValueProblem(value);
    if (problem) return `${field}: ${problem}`;
  }
  return undefined;
}

/** Annotation keys are checked lowercased, as the API server does: "Example.com/Note" is accepted. */
export function annotationsProblem(annotations: Readonly<Record<string, unknown>>, field: string): string | undefined {
  for (const key of Object.keys(annotations)) {
    const problem = qualifiedNameProblem(key.toLowerCase());
    if (problem) return `${field}: ${problem}`;
  }
  return undefined;
}

/** An enum field: undefined when absent or one of `allowed`. */
export function enumProblem(value: unknown, allowed: readonly string[], field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && allowed.includes(value)) return undefined;
  return `${field}: Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
}

/** Which addresses an IP field takes: "any" is either family. */
export type IPFamily = 'IPv4' | 'IPv6' | 'any';

/** An IP field the API server parses strictly (no leading zeros, no CIDR): the problem, or undefined. */
export function ipProblem(value: unknown, field: string, family: IPFamily = 'any'): string | undefined {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const version = typeof value === 'string' ? isIP(value) : 0;
  const wanted = family === 'IPv4' ? 4 : family === 'IPv6' ? 6 : version || -1;
  if (version !== wanted)
    return `${field}: ${invalid(text, family === 'any' ? 'must be a valid IP address' : `must be a valid ${family} address`)}`;
  return undefined;
}

/** Every entry of a list of IPs; the first problem, at "<field>[i]". */
export function ipListProblem(values: readonly unknown[], field: string, family: IPFamily = 'any'): string | undefined {
  for (const [i, value] of values.entries()) {
    const problem = ipProblem(value, `${field}[${i}]`, family);
    if (problem) return problem;
  }
  return undefined;
}
