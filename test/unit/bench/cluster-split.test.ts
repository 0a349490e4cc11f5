import { describe, expect, it } from 'vitest';
import { countObjects, splitCluster, splitTotalsProblem, type ClusterCounts } from '../../bench/cluster-split.js';
import { BENCH_SHAPE, type ClusterShape } from '../../bench/synthetic-cluster.js';

const SMALL: ClusterShape = { ...BENCH_SHAPE, nodes: 90, services: 40, endpoints: 400 };

interface Named {
  readonly kind: string;
  readonly metadata: { readonly name: string };
}

describe('the control-plane benchmark split across clusters', () => {
  it.each([1, 3])('holds the stated totals at full scale with %i cluster(s)', (clusters) => {
    const split = splitCluster(BENCH_SHAPE, clusters);
    const counts = split.parts.map((p) => countObjects(p.cluster, p.objects()));
    expect(splitTotalsProblem(BENCH_SHAPE, counts)).toBeUndefined();
    expect(counts.reduce((n, c) => n + c.nodes, 0)).toBe(5_000);
    expect(counts.reduce((n, c) => n + c.endpoints, 0)).toBe(100_000);
    for (const c of counts) expect(c.services).toBe(10_000);
    expect(counts.map((c) => c.cluster)).toEqual(clusters === 1 ? ['local'] : ['local', 'remote-1', 'remote-2']);
  });

  it('keeps the benchmark node (node 0) local and each node in one cluster', () => {
    const split = splitCluster(SMALL, 3);
    expect(split.clusterOfNode(0)).toBe(0);
    const names = split.parts.map((p) => (p.objects() as Named[]).filter((o) => o.kind === 'Node').map((o) => o.metadata.name));
    expect(names.map((n) => n.length)).toEqual([30, 30, 30]);
    expect(new Set(names.flat()).size).toBe(90);
  });

  it('places each endpoint in the slice of the cluster that runs its node', () => {
    const split = splitCluster(SMALL, 3);
    const objects = split.parts.map((p) => p.objects() as Array<Named & { endpoints?: Array<{ nodeName: string }> }>);
    for (let s = 0; s < SMALL.services; s++)
      for (let i = 0; i < 10; i++) {
        const { cluster, index } = split.placement(s, i);
        const slice = objects[cluster]!.find((o) => o.kind === 'EndpointSlice' && o.metadata.name === `svc-${s}-abcde`);
        const node = slice?.endpoints?.[index]?.nodeName ?? 'none';
        expect(split.clusterOfNode(Number(node.slice('node-'.length)))).toBe(cluster);
      }
  });

  it('says which total a split misses', () => {
    const counts = splitCluster(SMALL, 3).parts.map((p) => countObjects(p.cluster, p.objects()));
    const fewer = (c: ClusterCounts): ClusterCounts => ({ ...c, services: c.services - 1 });
    expect(splitTotalsProblem(SMALL, [counts[0]!, counts[1]!, fewer(counts[2]!)])).toBe('cluster remote-2 holds 39 Services, 40 stated');
    expect(splitTotalsProblem(SMALL, counts.slice(0, 2))).toMatch(/^nodes: 60 across clusters, 90 stated$/);
    expect(splitTotalsProblem({ ...SMALL, endpoints: 410 }, counts)).toBe('endpoints: 400 across clusters, 410 stated');
  });
});
