// Every lab rejection names the object and the field the way an API server does
// ("Service ns/name: spec.field: problem"), and a YAML error shows the line it means.
import { describe, expect, it } from 'vitest';
import { AppliedObjects } from '../../../lab/applied-objects.js';
import { parseDocuments } from '../../../lab/documents.js';
import { readKubeadmPatch } from '../../../lab/kubeadm-patches.js';
import { readApplied, type Applied } from '../../../lab/objects.js';

const read = (yaml: string, namespace = 'sample'): Applied => {
  const [doc] = parseDocuments(yaml, 'x.yaml');
  return readApplied(doc!.object, doc!.origin, namespace);
};
const service = (spec: string, name = 'x'): Applied =>
  read(`apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: sample}\nspec: {${spec}}\n`);
const nodes = new Map([['w1', { labels: {} }]]);
const withNamespace = (): AppliedObjects => {
  const state = new AppliedObjects(nodes);
  state.apply([read('apiVersion: v1\nkind: Namespace\nmetadata: {name: sample}\n')]);
  return state;
};
const messageOf = (f: () => unknown): string => {
  try {
    f();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a rejection');
};

describe('lab rejections name the object and the field', () => {
  it('a clusterIP outside the service CIDR', () => {
    const state = withNamespace();
    expect(messageOf(() => state.apply([service('clusterIP: 192.168.7.7, ports: [{port: 80}]')]))).toBe(
      'Service sample/x: spec.clusterIP: 192.168.7.7 is not in the service CIDR 10.96.0.0/16',
    );
    expect(state.services.size).toBe(0);
  });

  it('a clusterIP already taken, and a changed one', () => {
    const state = withNamespace();
    state.apply([service('clusterIP: 10.96.7.7, ports: [{port: 80}]', 'a')]);
    expect(messageOf(() => state.apply([service('clusterIP: 10.96.7.7, ports: [{port: 80}]', 'b')]))).toBe(
      'Service sample/b: spec.clusterIP: 10.96.7.7 is already allocated',
    );
    expect(messageOf(() => state.apply([service('clusterIP: 10.96.7.8, ports: [{port: 80}]', 'a')]))).toBe(
      'Service sample/a: spec.clusterIP: field is immutable (10.96.7.7)',
    );
  });

  it('a missing namespace, and a node the lab does not have', () => {
    const state = new AppliedObjects(nodes);
    expect(messageOf(() => state.apply([service('ports: [{port: 80}]')]))).toBe(
      'Service sample/x: metadata.namespace: namespaces "sample" not found',
    );
    expect(messageOf(() => state.apply([read('apiVersion: v1\nkind: Node\nmetadata: {name: w9}\n')]))).toMatch(
      /^Node w9: metadata\.name: nodes "w9" not found/,
    );
  });

  it('the checks made while reading use the same format, after the document it came from', () => {
    expect(messageOf(() => service('clusterIP: nope, ports: [{port: 80}]'))).toBe(
      'x.yaml#1: Service sample/x: spec.clusterIP: Invalid value: "nope": must be a valid IP address',
    );
    expect(messageOf(() => read('apiVersion: v1\nkind: Service\nmetadata: {name: Bad_Name}\n'))).toBe(
      'x.yaml#1: Service sample/Bad_Name: metadata.name: "Bad_Name" is not a valid Service name',
    );
    expect(messageOf(() => read('apiVersion: v2\nkind: Service\nmetadata: {name: x}\n'))).toMatch(
      /^x\.yaml#1: Service sample\/x: apiVersion: /,
    );
  });
});

describe('YAML errors show the line they mean', () => {
  it('in a manifest', () => {
    const text = 'apiVersion: v1\nkind: Service\nmetadata: name: x\n';
    expect(messageOf(() => parseDocuments(text, 'x.yaml'))).toBe(
      'x.yaml#1: invalid YAML at line 3, column 11: Nested mappings are not allowed in compact mappings: "metadata: name: x"',
    );
  });

  it('in a kubeadm patch', () => {
    expect(messageOf(() => readKubeadmPatch('kind: InitConfiguration\nnodeRegistration: kubeletExtraArgs: x\n', 'patch'))).toMatch(
      /^patch: invalid YAML at line 2, column \d+: .*: "nodeRegistration: kubeletExtraArgs: x"$/,
    );
  });
});
