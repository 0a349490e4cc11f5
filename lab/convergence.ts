/*
 * "Converged": a node's pinned maps hold exactly what the planner says that node should hold for
 * the objects the lab last published. Read from the kernel, not from the agent, so it is true
 * only when connects really go where the plan says. The lab's commands wait for it, which makes
 * each step of a demo deterministic: when `lab delete` returns, every node has failed over.
 */
import { buildSnapshot } from '../pkg/model/index.js';
import { plan } from '../pkg/planner/index.js';
import { NodeIds, serviceSpecs } from '../pkg/reconciler/index.js';
import { readPinnedState, sameService, serviceKeyText, type ProgrammedService, type ServiceSpec } from '../pkg/datapath/index.js';

/** A tier list for messages: addresses per tier, "~" marking terminating ones. */
/** A tier list for messages, with the balance, weights and outlier ejection that also make a service differ. */
function describe(
  mode: string,
  tiers: ReadonlyArray<ReadonlyArray<{ address: string; port: number; terminating: boolean }>>,
  extra: { balance?: string; weights?: readonly number[]; outlier?: unknown },
): string {
  const shown = tiers.map((t) => t.map((b) => `${b.address}:${b.port}${b.terminating ? '~' : ''}`).sort());
  while (shown.length > 0 && shown[shown.length - 1]?.length === 0) shown.pop();
  return JSON.stringify({
    mode,
    tiers: shown,
    balance: extra.balance ?? 'RANDOM',
    weights: (extra.weights ?? []).filter((w) => w > 0),
    outlier: extra.outlier ?? null,
  });
}

export interface NodeConvergence {
  readonly node: string;
  readonly converged: boolean;
  /** The first difference found, for messages. */
  readonly difference?: string;
  /** Services ("ns/name") with a planned entry that is not programmed at all, sorted. */
  readonly notProgrammed: readonly string[];
}

export function nodeConvergence(
  objects: readonly unknown[],
  node: string,
  pinRoot: string,
  preferCloseMeaning: 'subzone' | 'zone',
  /** One cluster of a lab set: the name local endpoints carry, as the agent's --cluster-name. */
  localCluster?: string,
): NodeConvergence {
  // "The same" is the agent's own rule (pkg/datapath's sameService), minus node ids, which only
  // the agent that numbered them knows.
  const nodeIds = new NodeIds();
  const want = new Map<string, ServiceSpec>();
  for (const service of plan(buildSnapshot(objects).snapshot, node, { preferCloseMeaning, ...(localCluster ? { localCluster } : {}) })
    .services) {
    for (const { id, spec } of serviceSpecs(service, nodeIds)) want.set(id, spec);
  }
  const have = new Map<string, ProgrammedService>();
  try {
    for (const service of readPinnedState(pinRoot).services) have.set(serviceKeyText(service.key), service);
  } catch (error) {
    return { node, converged: false, difference: `maps not readable: ${(error as Error).message}`, notProgrammed: [] };
  }
  const notProgrammed = [...new Set([...want].filter(([key]) => !have.has(key)).map(([, spec]) => spec.label))].sort();
  for (const [key, spec] of want) {
    const programmed = have.get(key);
    if (programmed === undefined || !sameService(spec, programmed, { ignoreNodeIds: true })) {
      const had = programmed ? describe(programmed.mode, programmed.tiers, programmed) : 'nothing';
      return { node, converged: false, difference: `${key}: want ${describe(spec.mode, spec.tiers, spec)}, have ${had}`, notProgrammed };
    }
  }
  for (const key of have.keys())
    if (!want.has(key)) return { node, converged: false, difference: `${key}: programmed but not planned`, notProgrammed };
  return { node, converged: true, notProgrammed };
}
