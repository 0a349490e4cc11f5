/*
 * The lab's real nodes (`lab up --control-plane --real-nodes`): per node a netns on the lab
 * bridge, a containerd of its own, the node's CNI network and a real kubelet registered with the
 * lab's API server, its pods under the node's own cgroup. The supervisor's lab.json names every
 * daemon before it is waited on; `lab down` (teardown.ts) ends them by PID, unmounts what they
 * mounted and removes the node dirs and the v1 cgroups.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Logger } from 'pino';
import { run } from '../exec.js';
import { LabError } from '../errors.js';
import type { ProcessRef } from '../processes.js';
import type { NodeBinaries } from './binaries.js';
import { createV1Cgroups } from './cgroup-v1.js';
import { cniConfigList } from './cni-config.js';
import { containerdConfig } from './containerd-config.js';
import { kubeletArgs, kubeletConfiguration, selfLabels, type KubeletSettings } from './kubelet-config.js';
import { nodeDirs, type NodeDirs } from './node-layout.js';
import { createNodeNetwork, nodeHostDevice, routePodCidrs, type NodeLink } from './node-network.js';
import { NodeProcess } from './node-process.js';

export interface RealNodePlan {
  readonly name: string;
  readonly index: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: KubeletSettings['taints'];
  readonly podCidr: string;
  readonly address: string;
  /** The node's cgroup2 directory (the agent attaches there); its path below the mount is the kubelet's cgroupRoot. */
  readonly cgroup: string;
}

/** An image as the lab has it: an archive for `ctr images import`, and the name it carries. */
export interface NodeImage {
  readonly archive: string;
  readonly name: string;
}

export interface RealNodesOptions {
  readonly lab: string;
  readonly ip: string;
  readonly cgroup2: string;
  readonly stateDir: string;
  readonly logDir: string;
  readonly bridgeNetns: string;
  readonly podRange: string;
  /** The lab's API server address, which each node netns gets a route to. */
  readonly apiServer?: string;
  readonly clusterDns: string;
  readonly binaries: NodeBinaries;
  readonly pause: NodeImage;
  /** Imported after pause (the agent, the samples): a failed import is a warning, not a failed node. */
  readonly images?: readonly NodeImage[];
  /** The CA the kubelets trust for clients (the API server's). */
  readonly clientCaFile: string;
  /** Writes the node's kubeconfig (its own system:node identity, an API server address its netns reaches). */
  readonly writeKubeconfig: (node: string, path: string) => Promise<void>;
  /** The kubelet's serving certificate for its node IP, signed by the CA the API server verifies kubelets with. */
  readonly servingCertificate: (node: string, address: string) => Promise<{ readonly cert: string; readonly key: string }>;
  /** True once the API server has the node Ready. */
  readonly nodeReady: (node: string) => Promise<boolean>;
  /** Sets the labels a kubelet may not set on its own Node (node-role.kubernetes.io/...). */
  readonly labelNode: (node: string, labels: Readonly<Record<string, string>>) => Promise<void>;
  readonly onDaemon: (node: string, what: 'containerd' | 'kubelet', ref: ProcessRef | undefined) => void;
  readonly logger: Logger;
  readonly containerdTimeoutMs?: number;
  readonly kubeletTimeoutMs?: number;
}

interface RunningNode {
  readonly plan: RealNodePlan;
  readonly dirs: NodeDirs;
  containerd?: NodeProcess;
  kubelet?: NodeProcess;
}

/** Only what the daemons need: the node components' directory first, so containerd finds its shim. */
function daemonEnv(binDir: string): NodeJS.ProcessEnv {
  return { PATH: `${binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: '/root' };
}

export class RealNodes {
  private readonly nodes: RunningNode[];

  private constructor(
    private readonly options: RealNodesOptions,
    plans: readonly RealNodePlan[],
  ) {
    this.nodes = plans.map((plan) => ({ plan, dirs: nodeDirs(options.stateDir, options.logDir, options.lab, plan.name) }));
  }

  /** Brings every node up to a Ready kubelet; on failure the caller's teardown removes what was made. */
  static async start(options: RealNodesOptions, plans: readonly RealNodePlan[]): Promise<RealNodes> {
    const nodes = new RealNodes(options, plans);
    await nodes.prepare();
    await Promise.all(nodes.nodes.map((n) => nodes.startContainerd(n)));
    // The other images load while the kubelets register: pods are only created once up returns.
    await Promise.all([...nodes.nodes.map((n) => nodes.startKubelet(n)), nodes.importOtherImages()]);
    return nodes;
  }

  private links(): NodeLink[] {
    return this.nodes.map(({ plan, dirs }) => ({
      netns: dirs.netns,
      address: plan.address,
      podCidr: plan.podCidr,
      hostDevice: nodeHostDevice(plan.index),
      ...(this.options.apiServer ? { apiServer: this.options.apiServer } : {}),
    }));
  }

  private async prepare(): Promise<void> {
    const { ip, bridgeNetns, cgroup2, binaries, pause, podRange } = this.options;
    const links = this.links();
    for (const [i, { plan, dirs }] of this.nodes.entries()) {
      for (const dir of [dirs.containerdRoot, dirs.containerdState, dirs.cniConfDir, dirs.cniIpamDir, dirs.kubeletRoot, dirs.podLogsDir])
        mkdirSync(dir, { recursive: true });
      await createNodeNetwork(ip, bridgeNetns, links[i]!);
      createV1Cgroups(relative(cgroup2, plan.cgroup));
      writeFileSync(
        join(dirs.cniConfDir, '10-nearby-lab.conflist'),
        cniConfigList({
          podCidr: plan.podCidr,
          podRange,
          ipamDir: dirs.cniIpamDir,
          ...(this.options.apiServer ? { apiServer: this.options.apiServer } : {}),
        }),
      );
      writeFileSync(
        dirs.containerdConfig,
        containerdConfig({ dirs, runc: binaries.runc, cniBinDir: binaries.cniBinDir, pauseImage: pause.name }),
      );
    }
    await routePodCidrs(ip, bridgeNetns, links);
  }

  private ctr(dirs: NodeDirs, args: readonly string[], timeoutMs = 10_000): Promise<{ stdout: string }> {
    return run(this.options.binaries.ctr, ['--address', dirs.containerdSocket, ...args], { timeoutMs });
  }

  private async startContainerd(node: RunningNode): Promise<void> {
    const { binaries, logger, onDaemon } = this.options;
    const { dirs, plan } = node;
    node.containerd = await NodeProcess.start({
      what: 'containerd',
      node: plan.name,
      netns: dirs.netns,
      binary: binaries.containerd,
      args: ['--config', dirs.containerdConfig],
      env: daemonEnv(binaries.binDir),
      logFile: dirs.containerdLog,
      ready: async () => existsSync(dirs.containerdSocket) && (await this.ctr(dirs, ['version']).then(() => true)),
      timeoutMs: this.options.containerdTimeoutMs ?? 30_000,
      logger,
      onProcess: (ref) => onDaemon(plan.name, 'containerd', ref),
    });
    const started = Date.now();
    // The CRI plugin's namespace; no registry is reachable, so the sandbox image must be here first.
    await this.ctr(dirs, ['-n', 'k8s.io', 'images', 'import', '--local', this.options.pause.archive], 60_000).catch((error: unknown) => {
      throw new LabError(
        'prereq',
        `node ${plan.name}: importing the pause image ${this.options.pause.archive}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    });
    logger.info({ node: plan.name, image: this.options.pause.name, ms: Date.now() - started }, 'pause image imported');
  }

  /** Each node imports one archive at a time (they are CPU-bound), the nodes side by side. */
  private async importOtherImages(): Promise<void> {
    const { images = [], logger } = this.options;
    if (images.length === 0) return;
    const started = Date.now();
    const failed = await Promise.all(
      this.nodes.map(async ({ plan, dirs }) => {
        let failures = 0;
        for (const image of images) {
          await this.ctr(dirs, ['-n', 'k8s.io', 'images', 'import', '--local', image.archive], 120_000).catch((error: unknown) => {
            failures++;
            logger.warn({ node: plan.name, image: image.name, err: error }, 'image import failed; its pods will not start on this node');
          });
        }
        return failures;
      }),
    );
    logger.info(
      { nodes: this.nodes.length, images: images.length, failed: failed.reduce((a, b) => a + b, 0), ms: Date.now() - started },
      'images imported',
    );
  }

  private async startKubelet(node: RunningNode): Promise<void> {
    const { binaries, logger, onDaemon, clientCaFile, clusterDns } = this.options;
    const { dirs, plan } = node;
    const { own, byAdmin } = selfLabels(plan.labels);
    const serving = await this.options.servingCertificate(plan.name, plan.address);
    const settings: KubeletSettings = {
      dirs,
      nodeName: plan.name,
      nodeIp: plan.address,
      serving,
      cgroupRoot: `/${relative(this.options.cgroup2, plan.cgroup)}`,
      clientCaFile,
      clusterDns,
      labels: own,
      taints: plan.taints,
    };
    writeFileSync(dirs.kubeletConfig, kubeletConfiguration(settings));
    await this.options.writeKubeconfig(plan.name, dirs.kubeletKubeconfig);
    node.kubelet = await NodeProcess.start({
      what: 'kubelet',
      node: plan.name,
      netns: dirs.netns,
      binary: binaries.kubelet,
      args: kubeletArgs(settings),
      env: daemonEnv(binaries.binDir),
      logFile: dirs.kubeletLog,
      ready: () => this.options.nodeReady(plan.name),
      // A bound (the poll ends once the node is Ready): four kubelets registering at load average 30-36
      // took more than 90 s, their API calls timing out, and two seed-demo labs failed so.
      timeoutMs: this.options.kubeletTimeoutMs ?? 240_000,
      logger,
      onProcess: (ref) => onDaemon(plan.name, 'kubelet', ref),
    });
    if (Object.keys(byAdmin).length > 0) await this.options.labelNode(plan.name, byAdmin);
  }

  /** Kubelets first (they would restart what containerd stops), then containerd; pods are ended by `lab down`. */
  async stop(): Promise<void> {
    // Short graces: the supervisor has 5 s in all to shut down, and `lab down` ends what is left.
    await Promise.all(this.nodes.flatMap((n) => (n.kubelet ? [n.kubelet.stop(1500)] : [])));
    await Promise.all(this.nodes.flatMap((n) => (n.containerd ? [n.containerd.stop(1500)] : [])));
  }

  /** The daemons' PIDs by node, for reports and tests. */
  daemons(): Array<{ node: string; containerd?: number; kubelet?: number }> {
    return this.nodes.map((n) => ({
      node: n.plan.name,
      ...(n.containerd ? { containerd: n.containerd.ref.pid } : {}),
      ...(n.kubelet ? { kubelet: n.kubelet.ref.pid } : {}),
    }));
  }
}
