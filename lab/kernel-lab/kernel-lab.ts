/**
 * A lab: one isolated network namespace, one cgroup subtree, simulated nodes (cgroups whose
 * clients live in the netns) and pods (addresses on the netns's lo, answered by one pod server).
 */
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ClientProcess, type Client } from './client.js';
import { cgroupBase, cgroupTreePids, createCgroup, removeCgroupTree } from './cgroups.js';
import { HelperProcess } from './helper-process.js';
import { cleanupLeftoversOnce } from './leftovers.js';
import { assertValidName, labCgroupDirName, labNetnsName, simNodeName } from './names.js';
import { addAddress, assertIsolated, createNetns, deleteNetns, netnsPids } from './netns.js';
import { pinRootFor, removePinRoot } from './pins.js';
import { type Pod, ServedPod } from './pod.js';
import { kernelEnv } from './prereqs.js';
import { terminatePids } from '../processes.js';
import type { SimNode } from './sim-node.js';
import type { PortSpec } from './types.js';

/** Node names start with a letter, so this cannot collide with one. */
const POD_SERVER_CGROUP = '_pods';

/** Labs alive in this process, so a duplicate name fails before it touches anything. */
const liveLabs = new Set<string>();

export class KernelLab {
  readonly name: string;
  /** Network namespace name (ip netns), /run/netns/<netns>. */
  readonly netns: string;
  /** The lab's cgroup directory; nodes are its children. */
  readonly cgroupRoot: string;

  private readonly nodes = new Map<string, SimNode>();
  private readonly pods = new Map<string, Pod>();
  private readonly clients = new Set<Client>();
  private readonly addresses = new Set<string>();
  private podServer: Promise<HelperProcess> | undefined;
  private ownsCgroup = false;
  private ownsNetns = false;
  private destroyed: Promise<void> | undefined;

  private constructor(name: string) {
    this.name = name;
    this.netns = labNetnsName(process.pid, name);
    this.cgroupRoot = join(cgroupBase(), labCgroupDirName(process.pid, name));
  }

  /** Checks prerequisites (throws if missing), removes crashed runs' leftovers, builds the lab. */
  static async create(name: string): Promise<KernelLab> {
    assertValidName('lab', name);
    kernelEnv();
    await cleanupLeftoversOnce();
    if (liveLabs.has(name)) throw new Error(`lab ${name} already exists in this process`);
    liveLabs.add(name);
    const lab = new KernelLab(name);
    try {
      createCgroup(lab.cgroupRoot);
      lab.ownsCgroup = true;
      await createNetns(lab.netns);
      lab.ownsNetns = true;
    } catch (err) {
      await lab.destroy().catch(() => undefined);
      throw err;
    }
    return lab;
  }

  private assertUsable(): void {
    if (this.destroyed) throw new Error(`lab ${this.name} is destroyed`);
  }

  /** A node: cgroup <cgroupRoot>/<name>. Its pin root is named here and created by the datapath. */
  // eslint-disable-next-line @typescript-eslint/require-await -- async so that a bad or taken name is a rejection, as callers expect
  async addNode(name: string): Promise<SimNode> {
    this.assertUsable();
    assertValidName('node', name);
    if (this.nodes.has(name)) throw new Error(`lab ${this.name} already has node ${name}`);
    const cgroupPath = join(this.cgroupRoot, name);
    createCgroup(cgroupPath);
    const nodeName = simNodeName(process.pid, this.name, name);
    const node: SimNode = {
      name,
      nodeName,
      cgroupPath,
      pinRoot: pinRootFor(nodeName),
      client: () => this.startClient(name, cgroupPath),
    };
    this.nodes.set(name, node);
    return node;
  }

  private async startClient(node: string, cgroupPath: string): Promise<Client> {
    this.assertUsable();
    const helper = await HelperProcess.start({
      script: 'client-main.ts',
      cgroupPath,
      netns: this.netns,
      label: `client on ${this.name}/${node}`,
    });
    const client = new ClientProcess(helper);
    this.clients.add(client);
    return client;
  }

  /**
   * Assigns the addresses (IPv4 /32, IPv6 /128) in the lab netns and starts listeners on every
   * address x port that answer with the pod's name. Pods may share an address on other ports.
   */
  async addPod(name: string, addresses: string[], ports: PortSpec[]): Promise<Pod> {
    this.assertUsable();
    assertValidName('pod', name);
    if (this.pods.has(name)) throw new Error(`lab ${this.name} already has pod ${name}`);
    if (addresses.length === 0 || ports.length === 0) throw new Error(`pod ${name} needs addresses and ports`);
    for (const address of addresses) {
      if (isIP(address) === 0) throw new Error(`pod ${name}: not an IP address: ${JSON.stringify(address)}`);
    }
    // Checked as plain values: a caller in plain JavaScript, or behind a cast, can pass anything.
    const specs: ReadonlyArray<{ port: number; proto: string }> = ports;
    for (const { port, proto } of specs) {
      if (!Number.isInteger(port) || port < 1 || port > 65535 || (proto !== 'tcp' && proto !== 'udp')) {
        throw new Error(`pod ${name}: bad port ${JSON.stringify({ port, proto })}`);
      }
    }
    for (const address of addresses) {
      if (this.addresses.has(address)) continue;
      await addAddress(this.netns, address);
      this.addresses.add(address);
    }
    const pod = new ServedPod(await this.ensurePodServer(), { name, addresses: [...addresses], ports: [...ports] });
    await pod.start();
    this.pods.set(name, pod);
    return pod;
  }

  private ensurePodServer(): Promise<HelperProcess> {
    this.podServer ??= (async () => {
      const cgroupPath = join(this.cgroupRoot, POD_SERVER_CGROUP);
      createCgroup(cgroupPath);
      return HelperProcess.start({ script: 'pod-server-main.ts', cgroupPath, netns: this.netns, label: `pod server of ${this.name}` });
    })();
    return this.podServer;
  }

  /** Re-checks the safety rule: only lo, no route out. Throws if violated. */
  assertIsolated(): Promise<void> {
    return assertIsolated(this.netns);
  }

  /** Every process the lab holds: in its cgroups or its netns. */
  async processIds(): Promise<number[]> {
    const inNetns = this.ownsNetns ? await netnsPids(this.netns) : [];
    const inCgroups = this.ownsCgroup ? cgroupTreePids(this.cgroupRoot) : [];
    return [...new Set([...inCgroups, ...inNetns])].sort((a, b) => a - b);
  }

  /**
   * Removes everything: processes, pin roots of its nodes, cgroups (deepest first), the netns
   * (and with it the addresses). Runs every step even if one fails, then throws listing the
   * failures. Safe to call twice.
   */
  destroy(): Promise<void> {
    this.destroyed ??= this.teardown();
    return this.destroyed;
  }

  private async teardown(): Promise<void> {
    const errors: Error[] = [];
    const step = async (what: string, action: () => unknown): Promise<void> => {
      try {
        await action();
      } catch (err) {
        errors.push(new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`));
      }
    };
    await step('close clients', () => Promise.all([...this.clients].map((c) => c.close())));
    await step('stop pod server', async () => (await this.podServer?.catch(() => undefined))?.stop());
    // Anything else a test started in the lab (by nsenter, say) is ended here, by PID.
    if (this.ownsNetns) await step('end netns processes', async () => terminatePids(await netnsPids(this.netns)));
    for (const node of this.nodes.values()) await step(`remove ${node.pinRoot}`, () => removePinRoot(node.pinRoot));
    if (this.ownsCgroup) await step(`remove cgroups ${this.cgroupRoot}`, () => removeCgroupTree(this.cgroupRoot));
    if (this.ownsNetns) await step(`delete netns ${this.netns}`, () => deleteNetns(this.netns));
    liveLabs.delete(this.name);
    if (errors.length > 0) {
      throw new AggregateError(errors, `lab ${this.name} teardown incomplete: ${errors.map((e) => e.message).join('; ')}`);
    }
  }
}
