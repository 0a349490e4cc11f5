// The real-node lab's cluster DNS add-on (lab/addons/coredns.yaml, issue 17): it parses, it holds
// the values kubeadm of the pinned release deploys CoreDNS with, its image is the one `make
// coredns` pins, and nothing in its Corefile sends a query off the machine.
import type { V1ClusterRole, V1ClusterRoleBinding, V1ConfigMap, V1Deployment, V1Service } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterDnsObjects, COREDNS_MANIFEST } from '../../../lab/addons/index.js';
import { DEFAULT_SERVICE_CIDR } from '../../../lab/control-plane/index.js';
import { CLUSTER_DOMAIN } from '../../../lab/hosts-file.js';
import { PROJECT_ROOT } from '../../../lab/programs.js';
import { only, parseObjects } from '../../fixtures/deploy-render.js';

const objects = parseObjects(readFileSync(COREDNS_MANIFEST, 'utf8'));
const typed = (kind: string, name: string): unknown => only(objects, kind, name);

/** One KEY=value line of an env file the build scripts source. */
function pinned(file: string, key: string): string {
  const match = new RegExp(`^${key}=(\\S+)$`, 'm').exec(readFileSync(join(PROJECT_ROOT, file), 'utf8'));
  if (!match) throw new Error(`${file} has no ${key}= line`);
  return match[1]!;
}

/** The 10th address of an IPv4 prefix, kubeadm's DNS Service address. */
function tenthAddress(cidr: string): string {
  const octets = (cidr.split('/')[0] ?? '').split('.').map(Number);
  const n = (((octets[0] ?? 0) << 24) | ((octets[1] ?? 0) << 16) | ((octets[2] ?? 0) << 8) | (octets[3] ?? 0)) + 10;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

describe('the cluster DNS add-on', () => {
  it("holds exactly kubeadm's six objects, all in kube-system but the cluster-wide RBAC", () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ClusterRole/system:coredns',
      'ClusterRoleBinding/system:coredns',
      'ConfigMap/coredns',
      'Deployment/coredns',
      'Service/kube-dns',
      'ServiceAccount/coredns',
    ]);
    for (const o of objects) expect(o.metadata.namespace, o.kind).toBe(o.kind.startsWith('Cluster') ? undefined : 'kube-system');
  });

  it("serves kube-dns at the Service CIDR's tenth address on 53/UDP, 53/TCP and 9153/TCP", () => {
    const service = typed('Service', 'kube-dns') as V1Service;
    expect(service.spec?.clusterIP).toBe(tenthAddress(DEFAULT_SERVICE_CIDR));
    expect(service.spec?.selector).toEqual({ 'k8s-app': 'kube-dns' });
    expect((service.spec?.ports ?? []).map((p) => `${p.name} ${p.port}/${p.protocol}->${String(p.targetPort)}`)).toEqual([
      'dns 53/UDP->53',
      'dns-tcp 53/TCP->53',
      'metrics 9153/TCP->9153',
    ]);
    expect(service.metadata?.labels).toMatchObject({ 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true' });
  });

  it('lets the coredns ServiceAccount list and watch what the kubernetes plugin reads', () => {
    const allowed = new Set<string>();
    for (const rule of (typed('ClusterRole', 'system:coredns') as V1ClusterRole).rules ?? []) {
      expect(rule.verbs).toEqual(['list', 'watch']);
      for (const group of rule.apiGroups ?? []) for (const r of rule.resources ?? []) allowed.add(`${group}/${r}`);
    }
    for (const needed of ['discovery.k8s.io/endpointslices', '/services', '/namespaces']) expect(allowed).toContain(needed);
    const binding = typed('ClusterRoleBinding', 'system:coredns') as V1ClusterRoleBinding;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }]);
  });

  it("runs 2 replicas of the pinned CoreDNS image under kubeadm's name, as kubeadm does", () => {
    const deployment = typed('Deployment', 'coredns') as V1Deployment;
    expect(deployment.spec?.replicas).toBe(2);
    expect(deployment.spec?.selector.matchLabels).toEqual({ 'k8s-app': 'kube-dns' });
    const pod = deployment.spec?.template.spec;
    expect(pod?.serviceAccountName).toBe('coredns');
    expect(pod?.priorityClassName).toBe('system-cluster-critical');
    expect(pod?.dnsPolicy).toBe('Default');
    expect(pod?.containers).toHaveLength(1);
    const container = pod?.containers[0];
    const version = pinned('test/control-plane/coredns.env', 'COREDNS_VERSION');
    expect(version).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(container?.image).toBe(`registry.k8s.io/coredns/coredns:${version}`);
    // The name test/images/build.sh makes the image under.
    expect(container?.image).toBe(pinned('test/images/images.env', 'COREDNS_IMAGE'));
    expect(container?.imagePullPolicy).toBe('IfNotPresent');
    expect(container?.args).toEqual(['-conf', '/etc/coredns/Corefile']);
    expect(container?.livenessProbe?.httpGet).toMatchObject({ path: '/health', port: 'liveness-probe' });
    expect(container?.readinessProbe?.httpGet).toMatchObject({ path: '/ready', port: 'readiness-probe' });
    expect(container?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
      readOnlyRootFilesystem: true,
    });
    expect(Object.fromEntries((container?.ports ?? []).map((p) => [p.name, `${p.containerPort}/${p.protocol}`]))).toEqual({
      dns: '53/UDP',
      'dns-tcp': '53/TCP',
      metrics: '9153/TCP',
      'liveness-probe': '8080/TCP',
      'readiness-probe': '8181/TCP',
    });
  });

  it('answers cluster.local from the API server and forwards nothing off the machine', () => {
    const corefile = (typed('ConfigMap', 'coredns') as V1ConfigMap).data?.['Corefile'] ?? '';
    expect(corefile).toMatch(new RegExp(`^\\s*kubernetes ${CLUSTER_DOMAIN.replace('.', '\\.')} in-addr\\.arpa ip6\\.arpa \\{$`, 'm'));
    expect(corefile).toMatch(/^\s*health \{$/m);
    expect(corefile).toMatch(/^\s*ready$/m);
    expect(corefile).toMatch(/^\s*prometheus :9153$/m);
    // The plugins that would send a query elsewhere (loop only checks forward's upstreams).
    for (const outward of ['forward', 'grpc', 'route53', 'azure', 'clouddns', 'etcd', 'loop'])
      expect(corefile).not.toMatch(new RegExp(`^\\s*${outward}\\b`, 'm'));
  });

  it("puts kube-dns at another lab's tenth Service address and changes nothing else", () => {
    const moved = clusterDnsObjects('10.100.0.10');
    const service = moved.find((o) => o.kind === 'Service') as V1Service | undefined;
    expect(service?.spec?.clusterIP).toBe('10.100.0.10');
    if (service?.spec) service.spec.clusterIP = tenthAddress(DEFAULT_SERVICE_CIDR);
    expect(moved).toEqual(objects);
  });
});

describe('make coredns', () => {
  const makefile = readFileSync(join(PROJECT_ROOT, 'Makefile'), 'utf8');

  it('builds the pinned CoreDNS outside make test', () => {
    expect(makefile).toMatch(/^coredns:\n\t@bash test\/control-plane\/build-coredns\.sh$/m);
    const test = /^test:(.*)$/m.exec(makefile)?.[1] ?? '';
    expect(test.split(/\s+/)).not.toContain('coredns');
  });
});
