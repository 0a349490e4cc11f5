import { describe, expect, it } from 'vitest';
import { apiSettlement, type ApiLists } from '../../../lab/kubelet/api-settlement.js';
import type { ApiPod } from '../../../lab/kubelet/api-pod.js';
import { apiStatusFingerprint, podStatusPatch, statusFingerprint } from '../../../lab/kubelet/pod-status.js';
import type { PodView } from '../../../lab/views.js';

const owner = (kind: string, name: string) => [{ kind, name, controller: true }];
const deployment = (name: string, ready = 1) => ({
  metadata: { name, namespace: 'sample', generation: 1 },
  spec: { replicas: 1 },
  status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: ready },
});
const replicaSet = (name: string, deploymentName: string) => ({
  metadata: { name, namespace: 'sample', ownerReferences: owner('Deployment', deploymentName) },
});
const pod = (
  name: string,
  rs: string,
  ip: string,
  extra: Partial<ApiPod['metadata']> = {},
  conditions = [{ type: 'Ready', status: 'True' }],
) => ({
  metadata: { name, namespace: 'sample', uid: name, labels: { app: 'web' }, ownerReferences: owner('ReplicaSet', rs), ...extra },
  spec: { nodeName: 'w1' },
  status: { phase: 'Running', podIP: ip, conditions },
});
const service = { metadata: { name: 'web', namespace: 'sample' }, spec: { selector: { app: 'web' } } };
const slice = (...ready: string[]) => ({
  metadata: { name: 'web-x', namespace: 'sample', labels: { 'kubernetes.io/service-name': 'web' } },
  endpoints: ready.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
});

function lists(overrides: Partial<ApiLists>): ApiLists {
  return {
    deployments: [deployment('web')],
    replicaSets: [replicaSet('web-abc', 'web')],
    pods: [pod('web-abc-1', 'web-abc', '10.244.1.2')] as ApiLists['pods'],
    services: [service],
    endpointSlices: [slice('10.244.1.2')],
    ...overrides,
  };
}

describe('when a lab on a real control plane has settled', () => {
  it('settles when Deployments are rolled out and slices name exactly the ready pods', () => {
    expect(apiSettlement(lists({}))).toEqual({ waiting: [], problems: [] });
  });

  it('waits for a Deployment that is not ready yet, and for slices that lag behind the pods', () => {
    const s = apiSettlement(lists({ deployments: [deployment('web', 0)], endpointSlices: [slice()] }));
    expect(s.waiting).toEqual([
      'deployment sample/web: 0/1 ready, 1 updated, 1 in all',
      'endpointslices of sample/web: ready endpoints [], ready pods [10.244.1.2]',
    ]);
  });

  it("counts the EndpointSlice controller's slices only, not another manager's (the lab's agents)", () => {
    const managed = (manager: string, ...ready: string[]) => {
      const base = slice(...ready);
      return {
        ...base,
        metadata: { ...base.metadata, labels: { ...base.metadata.labels, 'endpointslice.kubernetes.io/managed-by': manager } },
      };
    };
    const controllers = managed('endpointslice-controller.k8s.io', '10.244.1.2');
    expect(apiSettlement(lists({ endpointSlices: [controllers, managed('nearby-lab', '10.244.1.1')] }))).toEqual({
      waiting: [],
      problems: [],
    });
    expect(apiSettlement(lists({ endpointSlices: [managed('nearby-lab', '10.244.1.2')] })).waiting).toEqual([
      'endpointslices of sample/web: ready endpoints [], ready pods [10.244.1.2]',
    ]);
  });

  it('waits for a ready pod whose Deployment was deleted, until the garbage collector removes it', () => {
    const s = apiSettlement(lists({ deployments: [] }));
    expect(s.waiting).toEqual(['pod sample/web-abc-1: its Deployment web is gone; waiting for garbage collection']);
    expect(apiSettlement(lists({ deployments: [], replicaSets: [] })).waiting[0]).toMatch(/its ReplicaSet web-abc is gone/);
  });

  it('waits for terminating pods, and reports unschedulable ones as problems', () => {
    const terminating = pod('web-abc-1', 'web-abc', '10.244.1.2', { deletionTimestamp: '2026-11-22T00:00:00Z' });
    expect(apiSettlement(lists({ pods: [terminating] as ApiLists['pods'], endpointSlices: [slice()] })).waiting).toEqual([
      'pod sample/web-abc-1: terminating',
    ]);
    const unschedulable = pod('web-abc-1', 'web-abc', '', {}, [
      { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/4 nodes are available' } as never,
    ]);
    expect(apiSettlement(lists({ pods: [unschedulable] as ApiLists['pods'], endpointSlices: [slice()] })).problems).toEqual([
      'pod sample/web-abc-1: Unschedulable: 0/4 nodes are available',
    ]);
  });
});

describe("the kubelet's status report", () => {
  const view: PodView = {
    namespace: 'sample',
    name: 'web-abc-1',
    uid: 'u',
    labels: {},
    containers: [{ name: 'web', image: 'img', program: { kind: 'sleep' } as never, env: [], ports: [] }],
    rawSpec: {},
    node: 'w1',
    ip: '10.244.1.2',
    phase: 'Running',
    serving: true,
    terminating: false,
    restarts: 0,
    createdAt: '',
  };

  it('reads back, once applied, as the same fingerprint: nothing more to send', () => {
    const { status } = podStatusPatch({ view, startedAt: 't0', images: {} }, 't1');
    const applied = { metadata: { name: 'p', namespace: 'sample', uid: 'u' }, spec: {}, status } as unknown as ApiPod;
    expect(apiStatusFingerprint(applied)).toBe(statusFingerprint(view));
  });

  it('differs when another controller marked the pod not ready, so the next pass reports it again', () => {
    const { status } = podStatusPatch({ view, startedAt: 't0', images: {} }, 't1');
    const flipped = {
      ...status,
      conditions: (status['conditions'] as Array<{ type: string }>).map((c) => (c.type === 'Ready' ? { ...c, status: 'False' } : c)),
    };
    const markedByController = { metadata: { name: 'p', namespace: 'sample', uid: 'u' }, spec: {}, status: flipped } as unknown as ApiPod;
    expect(apiStatusFingerprint(markedByController)).not.toBe(statusFingerprint(view));
  });
});
