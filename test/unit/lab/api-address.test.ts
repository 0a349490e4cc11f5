// Where a control-plane lab publishes its API server: a /32 of 172.30.0.0/16 per lab, the first
// one the host does not hold; bound, advertised and published by the API server's own lease
// reconciler (loopback and no publishing without an address); named in its certificate; reached
// by pods through one on-link /32; and kept out of every pod and Service range.
import { describe, expect, it } from 'vitest';
import {
  API_RULE_PRIORITY,
  apiAddress,
  apiAddressIndex,
  apiHostDevice,
  apiRoutingTable,
  apiServerRouteCommand,
  apiServerUrl,
  chooseApiAddress,
} from '../../../lab/api-address.js';
import { apiserverFlags, type Layout } from '../../../lab/control-plane/component-flags.js';
import { apiserverSans, type Pki } from '../../../lab/control-plane/pki.js';
import { LabError } from '../../../lab/errors.js';
import { checkNetwork } from '../../../lab/ipam.js';
import { planCluster } from '../../../lab/kind-config.js';

const pair = (name: string) => ({ cert: `${name}.crt`, key: `${name}.key` });
const pki: Pki = {
  ca: pair('ca'),
  apiserver: pair('apiserver'),
  controllerManagerServing: pair('cms'),
  schedulerServing: pair('ss'),
  admin: pair('admin'),
  controllerManagerClient: pair('cmc'),
  schedulerClient: pair('sc'),
  kubeletClient: pair('kc'),
  serviceAccountKey: 'sa.key',
  serviceAccountPub: 'sa.pub',
};
const layout = (address?: string): Layout => ({
  dir: '/cp',
  pki,
  ports: { etcdClient: 1, etcdPeer: 2, apiserver: address ? 6443 : 3, controllerManager: 4, scheduler: 5 },
  serviceCidr: '10.96.0.0/16',
  ...(address ? { address } : {}),
  watchCache: false,
  controllerManagerKubeconfig: 'cm.kubeconfig',
  schedulerKubeconfig: 's.kubeconfig',
});
const flag = (flags: string[], name: string) => flags.filter((f) => f.startsWith(`--${name}=`));

describe('choosing the API address', () => {
  it('takes the first index no host interface holds, ignoring other addresses', () => {
    expect(chooseApiAddress([])).toEqual({ index: 0, address: '172.30.0.1' });
    expect(chooseApiAddress(['127.0.0.1', '192.0.2.2', '172.30.0.1', '172.30.2.1', '172.30.1.2'])).toEqual({
      index: 1,
      address: '172.30.1.1',
    });
  });

  it('refuses when all 256 are taken', () => {
    const all = Array.from({ length: 256 }, (_, i) => `172.30.${i}.1`);
    expect(() => chooseApiAddress(all)).toThrow(/all 256 API server addresses/);
  });

  it('maps addresses and indexes both ways, each index to its own routing table', () => {
    expect(apiAddress(7)).toBe('172.30.7.1');
    expect(apiAddressIndex('172.30.7.1')).toBe(7);
    expect(apiAddressIndex('172.30.7.2')).toBeUndefined();
    expect(apiAddressIndex('172.30.256.1')).toBeUndefined();
    expect(apiAddressIndex('10.30.7.1')).toBeUndefined();
    expect(() => apiAddress(256)).toThrow(LabError);
    expect(apiRoutingTable(0)).not.toBe(apiRoutingTable(1));
    // The rule must come before the main table (32766), after the local one (0).
    expect(API_RULE_PRIORITY).toBeGreaterThan(0);
    expect(API_RULE_PRIORITY).toBeLessThan(32766);
  });

  it('names the host end for the lab, stable and within 15 characters', () => {
    const name = apiHostDevice('a-lab-name-of-thirty-two-letters');
    expect(name.length).toBeLessThanOrEqual(15);
    expect(apiHostDevice('a-lab-name-of-thirty-two-letters')).toBe(name);
    expect(apiHostDevice('cluster1')).not.toBe(apiHostDevice('cluster2'));
  });

  it('routes a namespace to it on-link, never through a gateway', () => {
    expect(apiServerRouteCommand('172.30.3.1')).toBe('route add 172.30.3.1/32 dev eth0');
    expect(apiServerRouteCommand('172.30.3.1', 'veth0')).toBe('route add 172.30.3.1/32 dev veth0');
    expect(apiServerRouteCommand('172.30.3.1')).not.toMatch(/via|default/);
    expect(apiServerUrl('172.30.3.1', 6443)).toBe('https://172.30.3.1:6443');
  });
});

describe('the API server at its address', () => {
  it('binds and advertises the address and publishes itself with the lease reconciler', () => {
    const flags = apiserverFlags(layout('172.30.0.1'));
    expect(flag(flags, 'bind-address')).toEqual(['--bind-address=172.30.0.1']);
    expect(flag(flags, 'advertise-address')).toEqual(['--advertise-address=172.30.0.1']);
    expect(flag(flags, 'endpoint-reconciler-type')).toEqual(['--endpoint-reconciler-type=lease']);
    expect(flag(flags, 'secure-port')).toEqual(['--secure-port=6443']);
  });

  it('without an address stays on loopback and publishes nothing (an Endpoints object may not hold 127.0.0.1)', () => {
    const flags = apiserverFlags(layout());
    expect(flag(flags, 'bind-address')).toEqual(['--bind-address=127.0.0.1']);
    expect(flag(flags, 'advertise-address')).toEqual(['--advertise-address=127.0.0.1']);
    expect(flag(flags, 'endpoint-reconciler-type')).toEqual(['--endpoint-reconciler-type=none']);
  });

  it('reaches kubelets by their InternalIP with a client certificate of the lab CA, verifying theirs', () => {
    const flags = apiserverFlags(layout('172.30.4.1'));
    expect(flag(flags, 'kubelet-preferred-address-types')).toEqual(['--kubelet-preferred-address-types=InternalIP']);
    expect(flag(flags, 'kubelet-client-certificate')).toEqual(['--kubelet-client-certificate=kc.crt']);
    expect(flag(flags, 'kubelet-client-key')).toEqual(['--kubelet-client-key=kc.key']);
    expect(flag(flags, 'kubelet-certificate-authority')).toEqual(['--kubelet-certificate-authority=ca.crt']);
  });

  it('is named by its certificate at the address, the Service IP and loopback', () => {
    expect(apiserverSans('10.96.0.1', '172.30.4.1').split(',')).toEqual(
      expect.arrayContaining(['IP:127.0.0.1', 'IP:10.96.0.1', 'IP:172.30.4.1', 'DNS:kubernetes.default.svc']),
    );
    expect(apiserverSans('10.96.0.1')).not.toContain('172.30.');
  });
});

describe('the API address range is kept out of the cluster network', () => {
  it('refuses a pod or Service subnet overlapping 172.30.0.0/16, naming the field', () => {
    expect(() => checkNetwork({ podSubnet: '172.30.0.0/16', serviceSubnet: '10.96.0.0/16' }, 'networking')).toThrow(
      /networking\.podSubnet 172\.30\.0\.0\/16 overlaps 172\.30\.0\.0\/16/,
    );
    expect(() => checkNetwork({ podSubnet: '10.244.0.0/16', serviceSubnet: '172.16.0.0/12' }, 'networking')).toThrow(
      /networking\.serviceSubnet 172\.16\.0\.0\/12 overlaps/,
    );
    expect(() => checkNetwork({ podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' }, 'networking')).not.toThrow();
  });

  it('through the kind config', () => {
    const doc = { kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', networking: { podSubnet: '172.30.0.0/16' } };
    expect(() => planCluster(doc, 'x')).toThrow(/podSubnet 172\.30\.0\.0\/16 overlaps/);
  });
});
