import { describe, expect, it } from 'vitest';
import { countObjects, splitCluster, splitTotalsProblem } from '../../bench/cluster-split.js';
import { BENCH_SHAPE, type ClusterShape } from '../../bench/synthetic-cluster.js';

const SMALL: ClusterShape = { ...BENCH_SHAPE, nodes: 90, services: 40, endpoints: 400 };

describe('the control-plane benchmark split across clusters', () => {
  it.each([1, 3])('holds the stated totals at full scale with %i cluster(s)', (clusters) => {
    const split = splitCluster(BENCH_SHAPE, clusters);
    expect(splitTotalsProblem(BENCH_SHAPE, split)).toBeUndefined();
    const counts = split.parts.map((p) => countObjects(p.objects));
    expect(counts.reduce((n, c) => n + c.nodes, 0)).toBe(5_000);
    expect(counts.reduce((n, c) => n + c.endpoints, 0)).toBe(100_000);
    for (const c of counts) expect(c.services).toBe(10_000);
    expect(split.parts.map((p) => p.cluster)).toEqual(clusters === 1 ? [undefined] : [undefined, 'remote-1', 'remote-2']);
  });

  it('keeps the benchmark node (node 0) local and each node in one cluster', () => {
    const split = splitCluster(SMALL, 3);
    expect(split.clusterOfNode(0)).toBe(0);
    const names = split.parts.map((p) =>
      p.objects.filter((o) => (o as { kind: string }).kind === 'Node').map((o) => (o as { metadata: { name: string } }).metadata.name),
    );
    expect(names.map((n) => n.length)).toEqual([30, 30, 30]);
    expect(new Set(names.flat()).size).toBe(90);
  });

  it('places each endpoint in the slice of the cluster that runs its node', () => {
    const split = splitCluster(SMALL, 3);
    for (let s = 0; s < SMALL.services; s++)
      for (let i = 0; i < 10; i++) {
        const { cluster, index } = split.placement(s, i);
        const slice = split.parts[cluster]!.objects.find(
          (o) =>
            (o as { kind: string; metadata: { name: string } }).kind === 'EndpointSlice' &&
            (o as { metadata: { name: string } }).metadata.name === `svc-${s}-abcde`,
        ) as { endpoints: Array<{ nodeName: string }> };
        expect(split.clusterOfNode(Number(slice.endpoints[index]!.nodeName.slice('node-'.length)))).toBe(cluster);
      }
  });

  it('says which total a split misses', () => {
    const split = splitCluster(SMALL, 3);
    split.parts[2]!.objects.pop();
    expect(splitTotalsProblem(SMALL, split)).toMatch(/remote-2 holds 39 Services|endpoints/);
    expect(splitTotalsProblem({ ...SMALL, endpoints: 410 }, splitCluster(SMALL, 2))).toMatch(/endpoints: 400 across clusters, 410 stated/);
  });
});
