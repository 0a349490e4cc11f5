/*
 * lab.json: everything a lab has created, written before each thing is created (intent first),
 * so that `lab down` and the leftover cleanup of the next `lab up` can remove all of it even
 * after the supervisor was killed with SIGKILL halfway through.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { LabError } from './errors.js';
import type { HostEnv } from './host.js';
import type { LabPaths } from './layout.js';
import type { ProcessRef } from './processes.js';

export interface NodeRecord {
  readonly name: string;
  readonly role: 'control-plane' | 'worker';
  readonly cgroup: string;
  readonly pinRoot: string;
  readonly podCidr: string;
  agent?: (ProcessRef & { readonly port: number }) | undefined;
  /** A real node's containerd and kubelet (real-node/), by name. */
  daemons?: Record<string, ProcessRef | undefined>;
}

export interface PodRecord {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly ip: string;
  readonly netns: string;
  readonly cgroup: string;
  processes: ProcessRef[];
}

export interface LabRecord {
  readonly version: 1;
  readonly name: string;
  readonly createdAt: string;
  readonly stateDir: string;
  readonly cgroup2: string;
  readonly cgroupRoot: string;
  readonly bpffs: string;
  readonly bridgeNetns: string;
  supervisor?: ProcessRef | undefined;
  /** etcd, kube-apiserver, ... of a lab on a real control plane, by component. */
  controlPlane?: Record<string, ProcessRef | undefined>;
  prober?: ProcessRef | undefined;
  nodes: NodeRecord[];
  pods: PodRecord[];
}

/** The record of a lab about to be built: where everything will be, and nothing created yet. */
export function newLabRecord(paths: LabPaths, host: HostEnv, supervisor: ProcessRef | undefined): LabRecord {
  return {
    version: 1,
    name: paths.name,
    createdAt: new Date().toISOString(),
    stateDir: paths.stateDir,
    cgroup2: host.cgroup2,
    cgroupRoot: paths.cgroupRoot,
    bpffs: host.bpffs,
    bridgeNetns: paths.bridgeNetns,
    supervisor,
    nodes: [],
    pods: [],
  };
}

export function readRecord(path: string): LabRecord | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const record = JSON.parse(readFileSync(path, 'utf8')) as Partial<Record<'version' | 'name', unknown>>;
    if (record.version !== 1 || typeof record.name !== 'string') throw new Error('unknown format');
    return record as LabRecord;
  } catch (error) {
    throw new LabError('leftovers', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Write-then-rename, so a reader (or a crash) never sees half a record. */
export function writeRecord(path: string, record: LabRecord): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, path);
}

/** What the record lists of a running pod. */
export interface RecordedPod {
  readonly id: { readonly namespace: string; readonly name: string };
  readonly placement:
    { readonly node: string; readonly ip: string; readonly link: { readonly netns: string }; readonly cgroup: string } | undefined;
  processes(): ProcessRef[];
}

/**
 * The supervisor's lab.json, whichever control plane runs the lab: one record in memory,
 * written again on every change to what it names (intent first, before the thing is made).
 */
export class LabRecordFile {
  readonly record: LabRecord;

  constructor(
    private readonly path: string,
    initial: LabRecord,
    private readonly pods: () => readonly RecordedPod[],
  ) {
    this.record = initial;
    this.save();
  }

  addNode(node: NodeRecord): void {
    this.record.nodes.push(node);
  }

  setProber(ref: ProcessRef | undefined): void {
    this.record.prober = ref;
    this.save();
  }

  setAgent(node: NodeRecord, ref: NodeRecord['agent']): void {
    node.agent = ref;
    this.save();
  }

  setNodeDaemon(node: NodeRecord, what: string, ref: ProcessRef | undefined): void {
    node.daemons = { ...node.daemons, [what]: ref };
    this.save();
  }

  setControlPlaneProcess(component: string, ref: ProcessRef | undefined): void {
    this.record.controlPlane = { ...this.record.controlPlane, [component]: ref };
    this.save();
  }

  /** Takes the pods as they are now and writes the record. */
  save(): void {
    this.record.pods = this.pods().flatMap((p) => {
      const pl = p.placement;
      return pl
        ? [
            {
              namespace: p.id.namespace,
              name: p.id.name,
              node: pl.node,
              ip: pl.ip,
              netns: pl.link.netns,
              cgroup: pl.cgroup,
              processes: p.processes(),
            },
          ]
        : [];
    });
    writeRecord(this.path, this.record);
  }
}
