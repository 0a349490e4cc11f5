/**
 * The kernel lab, the kernel tests' harness: isolated labs where real BPF programs can be
 * attached and exercised, built on the lab's own netns, cgroup and process primitives.
 *
 * A KernelLab is one network namespace (only `lo`, up, no route out) plus one cgroup v2 subtree
 * under <cgroup2>/nearby-test/. In it:
 *   - addNode(name) makes a SimNode: a cgroup to attach the datapath to (cgroupPath), a unique
 *     nodeName and pinRoot (/sys/fs/bpf/nearby/<nodeName>, created by the datapath, removed by
 *     destroy()), and client(): a long-lived process inside that cgroup and the lab's netns.
 *   - addPod(name, addresses, ports) assigns the addresses to the netns's lo and answers every
 *     TCP connection / UDP datagram on them with "<pod name>\n". pod.stop()/start() toggle it.
 *   - client.connect({address, port, proto, udp, count, timeoutMs}) makes `count` connects, each
 *     on a fresh socket, and reports per connect: ok, answer (pod name), errno, peer
 *     (getpeername, or the reply's source for unconnected UDP), local, and t0/t1 on the nowMs()
 *     timeline. client.loop(...) does the same back to back in the background; its handle's
 *     stop() resolves with every timestamped result, to compare against nowMs() taken when the
 *     test changed a map.
 *   - Without a datapath, an address assigned to no pod fails with ENETUNREACH; a stopped pod
 *     gives ECONNREFUSED (TCP, connected UDP) or ETIMEDOUT (unconnected UDP: no ICMP is seen).
 *
 * Every call is bounded: connects time out (default 2000 ms, errno 'ETIMEDOUT'), loops end by
 * duration or count, helpers that stop answering are killed by PID.
 *
 * Names embed the creating PID (netns nbt-<pid>-<lab>, cgroup nearby-test/<pid>-<lab>, pin root
 * nbt-<pid>-<lab>-<node>). KernelLab.create() first removes leftovers whose PID is dead and warns about
 * them; leftovers() lists them and cleanupLeftovers() removes them on demand.
 *
 * Prerequisites (root, a cgroup2 mount, bpffs at /sys/fs/bpf, ip, nsenter, tsx) are checked by
 * assertKernelPrereqs(), which throws naming what is missing: kernel tests fail, never skip.
 *
 * Typical use:
 *   const lab = await KernelLab.create('failover');
 *   try {
 *     const node = await lab.addNode('n1');            // attach the datapath to node.cgroupPath
 *     await lab.addPod('web-a', ['10.244.1.10', 'fd00:10:244:1::10'], [{ port: 8080, proto: 'tcp' }]);
 *     const client = await node.client();
 *     const [r] = await client.connect({ address: '10.96.0.10', port: 80, proto: 'tcp', count: 1 });
 *   } finally {
 *     await lab.destroy();
 *   }
 */
export { assertKernelPrereqs, kernelEnv, BPFFS, type KernelEnv } from './prereqs.js';
export { cleanupLeftovers, harnessResources, leftovers, type HarnessResource, type ResourceKind } from './leftovers.js';
export { KernelLab } from './kernel-lab.js';
export type { SimNode } from './sim-node.js';
export type { Pod } from './pod.js';
export type { Client, LoopHandle } from './client.js';
export type { ConnectOptions, ConnectResult, Endpoint, LoopOptions, PortSpec, Proto, UdpMode } from './types.js';
export { nowMs } from './clock.js';
export { cgroupBase, cgroupOfPid, cgroupProcPath } from './cgroups.js';
export { listNetns, netnsPath } from './netns.js';
export { PIN_BASE } from './pins.js';
export { isLivePid } from '../processes.js';
export { run } from '../exec.js';
