/*
 * Several kind clusters in one lab (`lab up` with one kind config per cluster), as seed 004 runs
 * two kind clusters side by side. Each cluster is a lab of its own, named by its config's
 * `name` (its own supervisor, control plane, nodes and agents, so everything a single lab does
 * holds per cluster); what they share is written here: one flat pod network (the bridges are
 * joined, pod ranges kept distinct by ipam.ts), a kubeconfig holding every cluster as the
 * context kind-<name>, and a set file in each member's state dir, by which `lab status` and
 * `lab down` of any member cover all of them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { LabError } from './errors.js';
import { distinctPodSubnets, usedPodRange } from './ipam.js';
import { planCluster, type ClusterPlan } from './kind-config.js';
import { assertLabName, RUN_BASE } from './layout.js';

/** The file, in each member's state dir, naming the clusters of its set. */
export const LAB_SET_FILE = 'lab-set.json';
/** The kubeconfig of every cluster of a set, in the first member's state dir. */
export const LAB_SET_KUBECONFIG = 'kind.kubeconfig';

/** kind's context and cluster name for a cluster: what `kind create cluster --name NAME` writes. */
export const kindContext = (cluster: string): string => `kind-${cluster}`;

export interface SetMember {
  readonly name: string;
  readonly plan: ClusterPlan;
  /** The other members' pod ranges, on-link in this member's pods. */
  readonly peerRanges: readonly string[];
}

export interface LabSetPlan {
  readonly members: readonly SetMember[];
  /** Pod ranges moved apart, one line each, said when the set comes up. */
  readonly notes: readonly string[];
}

/** Plans each kind config as a cluster of one set; `docs` are the Cluster documents, two or more. */
export function planLabSet(docs: ReadonlyArray<Record<string, unknown>>): LabSetPlan {
  const names = docs.map((doc, i) => {
    const name = doc['name'];
    if (typeof name !== 'string' || name === '')
      throw new LabError(
        'invalid',
        `kind Cluster ${i + 1} of ${docs.length} has no name: with several clusters each config names its cluster`,
      );
    assertLabName(name);
    return name;
  });
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new LabError('invalid', `two kind Cluster configs are named ${twice}`);
  const plans = docs.map((doc, i) => planCluster(doc, names[i]!));
  const nodeNames = plans.flatMap((p) => p.nodes.map((n) => n.name));
  const clash = nodeNames.find((n, i) => nodeNames.indexOf(n) !== i);
  if (clash) throw new LabError('invalid', `node ${clash} would be in two clusters; rename one of the clusters`);
  const { networks, moved } = distinctPodSubnets(plans.map((p) => p.network));
  const notes = [
    ...plans.flatMap((p, i) => p.notes.map((note) => `${names[i]}: ${note}`)),
    ...moved.map(
      (m) =>
        `${names[m.index]}: podSubnet ${m.from} is already used by another cluster of the lab; its pods get ${m.to} ` +
        `(one flat lab network cannot route two clusters' pods in one range; Service ranges may overlap)`,
    ),
  ];
  const ranges = networks.map((n) => usedPodRange(n.podSubnet));
  const members = plans.map((plan, i) => ({
    name: names[i]!,
    plan: { ...plan, network: networks[i]! },
    peerRanges: ranges.filter((_, j) => j !== i),
  }));
  return { members, notes };
}

export interface LabSetRecord {
  readonly clusters: readonly string[];
  readonly kubeconfig: string;
}

export function labSetKubeconfigPath(first: string): string {
  return join(RUN_BASE, first, LAB_SET_KUBECONFIG);
}

/** The set a lab belongs to, from its state dir; undefined for a lab on its own. */
export function readLabSet(name: string): LabSetRecord | undefined {
  const file = join(RUN_BASE, name, LAB_SET_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<LabSetRecord>;
    if (!Array.isArray(value.clusters) || typeof value.kubeconfig !== 'string') return undefined;
    return { clusters: value.clusters.filter((c): c is string => typeof c === 'string'), kubeconfig: value.kubeconfig };
  } catch {
    return undefined;
  }
}

export function writeLabSet(record: LabSetRecord): void {
  for (const name of record.clusters) writeFileSync(join(RUN_BASE, name, LAB_SET_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

interface KubeconfigDocument {
  clusters?: Array<{ name: string; cluster: Record<string, unknown> }>;
  users?: Array<{ name: string; user: Record<string, unknown> }>;
  contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
  'current-context'?: string;
}

/**
 * One kubeconfig with each cluster's admin credentials under kind's names (cluster, user and
 * context kind-<name>), so the seed's `kubectl --context kind-cluster1 ...` runs as written.
 * `sources` maps cluster name -> that lab's own admin kubeconfig; the last is current, as after
 * the seed's last `kind create cluster`.
 */
export function mergeKubeconfigs(sources: ReadonlyArray<readonly [string, string]>): string {
  const merged = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [] as unknown[],
    users: [] as unknown[],
    contexts: [] as unknown[],
  };
  for (const [name, file] of sources) {
    const doc = parse(readFileSync(file, 'utf8')) as KubeconfigDocument;
    const current = doc.contexts?.find((c) => c.name === doc['current-context']) ?? doc.contexts?.[0];
    const cluster = doc.clusters?.find((c) => c.name === current?.context.cluster);
    const user = doc.users?.find((u) => u.name === current?.context.user);
    if (!current || !cluster || !user) throw new LabError('system', `${file}: no current context with its cluster and user`);
    const kind = kindContext(name);
    merged.clusters.push({ name: kind, cluster: cluster.cluster });
    merged.users.push({ name: kind, user: user.user });
    merged.contexts.push({ name: kind, context: { cluster: kind, user: kind } });
  }
  const last = sources.at(-1);
  return stringify({ ...merged, 'current-context': last ? kindContext(last[0]) : '' });
}
