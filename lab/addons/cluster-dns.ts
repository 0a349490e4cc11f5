/*
 * The real-node lab's cluster DNS: CoreDNS (coredns.yaml, beside this file) behind the kube-dns
 * Service. The file holds kind's and kubeadm's address for it, the tenth of the default Service
 * range; a lab with another serviceSubnet gets its own tenth address, the one its kubelets are
 * given as clusterDNS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { LabError } from '../errors.js';
import { PROJECT_ROOT } from '../programs.js';

/** The add-on's manifests as written: `kubectl apply -f` of this file in a kind-default lab. */
export const COREDNS_MANIFEST = join(PROJECT_ROOT, 'lab/addons/coredns.yaml');

export const KUBE_DNS_SERVICE = { namespace: 'kube-system', name: 'kube-dns' } as const;

/** The Deployment serving it, and the label its pods carry (kubeadm's names). */
export const COREDNS_DEPLOYMENT = { namespace: 'kube-system', name: 'coredns', podLabel: ['k8s-app', 'kube-dns'] } as const;

type KubeObject = Record<string, unknown> & { kind?: unknown; metadata?: { name?: unknown }; spec?: Record<string, unknown> };

/**
 * The add-on's objects, kube-dns at `clusterDnsIp`, for `kubectl apply -f -` as a List:
 *   cp.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }))
 */
export function clusterDnsObjects(clusterDnsIp: string): KubeObject[] {
  const objects = parseAllDocuments(readFileSync(COREDNS_MANIFEST, 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new LabError('invalid', `${COREDNS_MANIFEST}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as KubeObject;
  });
  const service = objects.find((o) => o.kind === 'Service' && o.metadata?.name === KUBE_DNS_SERVICE.name);
  if (!service?.spec) throw new LabError('invalid', `${COREDNS_MANIFEST} has no Service ${KUBE_DNS_SERVICE.name}`);
  service.spec['clusterIP'] = clusterDnsIp;
  return objects;
}

/** The add-on as one `kubectl apply -f -` input, kube-dns at `clusterDnsIp`. */
export function clusterDnsList(clusterDnsIp: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: clusterDnsObjects(clusterDnsIp) });
}
