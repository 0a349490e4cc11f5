/*
 * What `lab up --control-plane --real-nodes` adds to the lab on a real control plane: instead of
 * the lab playing the kubelet (lab/kubelet), each lab node runs a real kubelet and containerd
 * (lab/real-node), registered with the lab's API server under its own system:node identity.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LabNode } from './cluster-backend.js';
import { routeApiServerToNodes } from './api-link.js';
import { issueClientCertificate, issueServingCertificate, writeKubeconfig, type ControlPlane } from './control-plane/index.js';
import type { HostEnv } from './host.js';
import { clusterDnsAddress, PodNetwork, type LabNetwork } from './ipam.js';
import type { ApiRest } from './kubelet/rest.js';
import type { LabPaths } from './layout.js';
import { taintsOf } from './pod-scheduling.js';
import {
  KUBELET_PORT,
  RealNodes,
  resolveNodeBinaries,
  resolveOtherImages,
  resolvePauseImage,
  type RealNodePlan,
} from './real-node/index.js';
import type { LabRecordFile } from './record.js';

interface NodeObject {
  readonly status?: { readonly conditions?: ReadonlyArray<{ readonly type?: string; readonly status?: string }> };
}

export interface RealNodeContext {
  readonly host: HostEnv;
  readonly paths: LabPaths;
  readonly network: LabNetwork;
  readonly nodes: ReadonlyMap<string, LabNode>;
  readonly record: LabRecordFile;
  readonly controlPlane: ControlPlane;
  /** The API server's URL as a node's netns reaches it. */
  readonly server: string;
  /** Its address on the lab network (lab/api-link.ts). */
  readonly apiServer?: string;
  readonly rest: ApiRest;
  readonly kubectl: (args: string[]) => Promise<string[]>;
  readonly logger: Logger;
}

export async function startRealNodes(c: RealNodeContext): Promise<RealNodes> {
  const binaries = resolveNodeBinaries();
  const pause = resolvePauseImage();
  const images = resolveOtherImages(c.logger);
  const pods = new PodNetwork(c.network.podSubnet);
  const nodes = [...c.nodes.values()];
  const hasWorkers = nodes.some((n) => n.plan.role === 'worker');
  const plans: RealNodePlan[] = nodes.map((n, index) => ({
    name: n.plan.name,
    index,
    labels: n.plan.labels,
    taints: taintsOf(n.plan.role, hasWorkers),
    podCidr: n.record.podCidr,
    address: pods.nodeHostAddress(index),
    cgroup: n.record.cgroup,
  }));
  const pkiDir = join(c.controlPlane.dir, 'pki');
  const credentials = join(c.paths.stateDir, 'node-credentials');
  mkdirSync(credentials, { recursive: true, mode: 0o700 });
  // exec, logs and port-forward: the API server dials each kubelet at its InternalIP.
  if (c.apiServer)
    await routeApiServerToNodes(
      c.host.ip,
      c.paths.name,
      plans.map((p) => p.address),
      KUBELET_PORT,
    );
  return RealNodes.start(
    {
      lab: c.paths.name,
      ip: c.host.ip,
      cgroup2: c.host.cgroup2,
      stateDir: c.paths.stateDir,
      logDir: c.paths.logDir,
      bridgeNetns: c.paths.bridgeNetns,
      podRange: pods.podRange,
      ...(c.apiServer ? { apiServer: c.apiServer } : {}),
      clusterDns: clusterDnsAddress(c.network.serviceSubnet),
      binaries,
      pause,
      images,
      clientCaFile: c.controlPlane.caFile,
      servingCertificate: (node, address) =>
        issueServingCertificate(pkiDir, `kubelet-serving-${node}`, `/CN=system:node:${node}`, `IP:${address},DNS:${node}`),
      writeKubeconfig: async (node, path) => {
        const pair = await issueClientCertificate(pkiDir, `kubelet-${node}`, `/O=system:nodes/CN=system:node:${node}`);
        writeKubeconfig(path, {
          server: c.server,
          caFile: c.controlPlane.caFile,
          userName: `system:node:${node}`,
          user: { certFile: pair.cert, keyFile: pair.key },
        });
      },
      nodeReady: async (node) => {
        const object = await c.rest.call<NodeObject>('GET', `/api/v1/nodes/${node}`).catch(() => undefined);
        return object?.status?.conditions?.some((k) => k.type === 'Ready' && k.status === 'True') ?? false;
      },
      labelNode: async (node, labels) => {
        await c.kubectl(['label', 'node', node, '--overwrite', ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]);
      },
      onDaemon: (node, what, ref) => {
        const record = c.nodes.get(node)?.record;
        if (record) c.record.setNodeDaemon(record, what, ref);
      },
      logger: c.logger,
    },
    plans,
  );
}
