// deploy/crds/destinationrule.yaml: a CRD the API server accepts as structural (every schema node
// typed, or explicitly preserving unknown fields), serving v1, v1beta1 and v1alpha3 alike, and
// typing each field nearby reads. test/cluster/deploy-dry-run.test.ts has the real API server
// check it too.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEPLOY } from '../../fixtures/deploy-render.js';
import { kindInfo } from '../../../pkg/model/index.js';

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  nullable?: boolean;
  [key: string]: unknown;
}

interface Version {
  name: string;
  served: boolean;
  storage: boolean;
  schema: { openAPIV3Schema: Schema };
}

interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { group: string; scope: string; names: { kind: string; plural: string }; versions: Version[] };
}

const FILE = join(DEPLOY, 'crds/destinationrule.yaml');
const docs = parseAllDocuments(readFileSync(FILE, 'utf8'));
const crd = docs[0]?.toJS() as Crd;
const DR = kindInfo('DestinationRule');

/** Where a schema breaks the API server's structural rules; [] when it is structural. */
function structuralProblems(schema: Schema, path: string): string[] {
  const problems: string[] = [];
  const preserves = schema['x-kubernetes-preserve-unknown-fields'] === true || schema['x-kubernetes-int-or-string'] === true;
  if (!schema.type && !preserves) problems.push(`${path}: no type`);
  for (const banned of ['$ref', 'allOf', 'anyOf', 'oneOf', 'not']) if (banned in schema) problems.push(`${path}: ${banned}`);
  if (schema.properties && schema.type !== 'object') problems.push(`${path}: properties on a ${schema.type}`);
  if (schema.items && schema.type !== 'array') problems.push(`${path}: items on a ${schema.type}`);
  if (schema.type === 'array' && !schema.items) problems.push(`${path}: an array without items`);
  if (schema.properties && typeof schema.additionalProperties === 'object') problems.push(`${path}: properties and additionalProperties`);
  for (const [name, child] of Object.entries(schema.properties ?? {})) problems.push(...structuralProblems(child, `${path}.${name}`));
  if (schema.items) problems.push(...structuralProblems(schema.items, `${path}[]`));
  if (typeof schema.additionalProperties === 'object') problems.push(...structuralProblems(schema.additionalProperties, `${path}{}`));
  return problems;
}

/** The schema node at a dotted path ("[]" steps into array items), or undefined. */
function at(schema: Schema, path: string): Schema | undefined {
  let node: Schema | undefined = schema;
  for (const step of path.split('.')) {
    if (step === '[]') node = node?.items;
    else node = node?.properties?.[step];
  }
  return node;
}

/** Where a value disagrees with the schema's types; fields the schema does not name are kept as is. */
function typeProblems(value: unknown, schema: Schema, path: string): string[] {
  if (value === null) return schema.nullable ? [] : [`${path}: null`];
  const actual = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (schema.type && schema.type !== actual) return [`${path}: ${actual}, the schema says ${schema.type}`];
  if (Array.isArray(value)) return schema.items ? value.flatMap((item, i) => typeProblems(item, schema.items!, `${path}[${i}]`)) : [];
  if (typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, field]) => {
    const child = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (child) return typeProblems(field, child, `${path}.${key}`);
    return schema['x-kubernetes-preserve-unknown-fields'] === true ? [] : [`${path}.${key}: pruned`];
  });
}

/** Rules as users write them: seed 003's failover (v1beta1) and distribute, and what else nearby reads. */
const RULES = `
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: helloworld-failover, namespace: sample}
spec:
  host: helloworld.sample.svc.cluster.local
  trafficPolicy:
    connectionPool: {http: {maxRequestsPerConnection: 1}}
    loadBalancer:
      simple: ROUND_ROBIN
      localityLbSetting:
        enabled: true
        failover: [{from: az01, to: az02}]
    outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 1m}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: helloworld-distribute, namespace: sample}
spec:
  host: helloworld
  exportTo: [".", istio-system]
  workloadSelector: {matchLabels: {app: client}}
  subsets: [{name: v1, labels: {version: v1}}]
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        enabled: null
        distribute:
        - from: sg/az01/*
          to: {"sg/az01/*": 70, "sg/az02/*": 30}
        failoverPriority: [topology.kubernetes.io/region, "version=v1"]
    portLevelSettings:
    - port: {number: 5000}
      loadBalancer:
        consistentHash: {useSourceIp: true, maglev: {tableSize: 1021}}
      outlierDetection: {maxEjectionPercent: 50}
`;

describe('the DestinationRule CRD in deploy/crds', () => {
  it('is one CRD for networking.istio.io destinationrules, namespaced, as the model reads it', () => {
    expect(docs).toHaveLength(1);
    expect(docs[0]?.errors).toEqual([]);
    expect(crd).toMatchObject({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' });
    expect(crd.metadata.name).toBe(`${DR.plural}.${DR.group}`);
    expect(crd.spec).toMatchObject({ group: DR.group, scope: 'Namespaced', names: { kind: 'DestinationRule', plural: DR.plural } });
  });

  it('serves v1 (stored), v1beta1 and v1alpha3, every one with the same schema', () => {
    const versions = crd.spec.versions;
    expect(versions.map((v) => `${DR.group}/${v.name}`)).toEqual(DR.apiVersions);
    expect(versions.every((v) => v.served)).toBe(true);
    expect(versions.filter((v) => v.storage).map((v) => v.name)).toEqual(['v1']);
    for (const v of versions) expect(v.schema, v.name).toEqual(versions[0]!.schema);
  });

  it('has a structural schema', () => {
    const schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
    expect(schema.type).toBe('object');
    expect(structuralProblems(schema, 'root')).toEqual([]);
    // The check itself finds what the API server would refuse.
    expect(structuralProblems({ type: 'object', properties: { a: {}, b: { type: 'array' } } }, 'root')).toEqual([
      'root.a: no type',
      'root.b: an array without items',
    ]);
  });

  it('types every field nearby reads, and keeps the rest of spec and trafficPolicy', () => {
    const schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
    const lb = 'spec.trafficPolicy.loadBalancer';
    const locality = `${lb}.localityLbSetting`;
    const typed: Record<string, string> = {
      'spec.host': 'string',
      'spec.exportTo': 'array',
      'spec.exportTo.[]': 'string',
      'spec.workloadSelector.matchLabels': 'object',
      [`${lb}.simple`]: 'string',
      [`${lb}.consistentHash.useSourceIp`]: 'boolean',
      [`${lb}.consistentHash.maglev.tableSize`]: 'integer',
      [`${lb}.consistentHash.ringHash.minimumRingSize`]: 'integer',
      [`${locality}.enabled`]: 'boolean',
      [`${locality}.distribute.[].from`]: 'string',
      [`${locality}.distribute.[].to`]: 'object',
      [`${locality}.failover.[].from`]: 'string',
      [`${locality}.failover.[].to`]: 'string',
      [`${locality}.failoverPriority.[]`]: 'string',
      'spec.trafficPolicy.portLevelSettings.[].port.number': 'integer',
      'spec.trafficPolicy.portLevelSettings.[].loadBalancer.localityLbSetting.enabled': 'boolean',
      'spec.trafficPolicy.outlierDetection': 'object',
      'spec.trafficPolicy.portLevelSettings.[].outlierDetection': 'object',
    };
    for (const [path, type] of Object.entries(typed)) expect(at(schema, path)?.type, path).toBe(type);
    for (const path of ['spec', 'spec.trafficPolicy', lb, locality, 'status']) {
      expect(at(schema, path)?.['x-kubernetes-preserve-unknown-fields'], path).toBe(true);
    }
  });

  it('accepts seed-style rules of v1 and v1beta1 with no field pruned or mistyped, and refuses a mistyped one', () => {
    const schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
    const rules = parseAllDocuments(RULES).map((doc) => doc.toJS() as Record<string, unknown>);
    expect(rules).toHaveLength(2);
    // apiVersion, kind and metadata are the API server's own, outside the schema.
    for (const rule of rules) expect(typeProblems({ spec: rule['spec'] }, schema, 'rule')).toEqual([]);
    const mistyped: unknown = parse(
      'spec: {host: web, trafficPolicy: {loadBalancer: {localityLbSetting: {distribute: [{from: a, to: {b: "70"}}]}}}}',
    );
    expect(typeProblems(mistyped, schema, 'rule')).toEqual([
      'rule.spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to.b: string, the schema says integer',
    ]);
  });
});
