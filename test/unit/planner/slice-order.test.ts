/** pkg/model/slice-order.ts: a Service's slices in the order of their qualified names' text. */
import { describe, expect, it } from 'vitest';
import { buildSnapshot, clusterKey, type EndpointSlice, inCluster, SnapshotStore } from '../../../pkg/model/index.js';
import { compareSlices } from '../../../pkg/model/slice-order.js';
import { ep, node, service, slice } from './fixtures.js';

const qualified = (s: EndpointSlice): string => clusterKey(s.cluster, `${s.namespace}/${s.name}`);
const byText = (a: EndpointSlice, b: EndpointSlice): number => {
  const x = qualified(a);
  const y = qualified(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

function modelSlice(cluster: string | undefined, namespace: string, name: string): EndpointSlice {
  return {
    namespace,
    name,
    serviceKey: `${namespace}/svc`,
    addressType: 'IPv4',
    ports: [],
    endpoints: [],
    ...(cluster ? { cluster } : {}),
  };
}

describe('compareSlices', () => {
  // Prefixes of one another, "-" and "." (below "/") and "0" (above it), an empty name, non-ASCII.
  const clusters = [undefined, 'c', 'c-2', 'c2', 'b', 'sample', 'é'];
  const namespaces = ['sample', 'sample-a', 'sample0', 'sampl', 'c', 'c-2', 'a'];
  const names = ['web', 'web-a', 'web.a', 'web0', 'we', '', 'c', 'x'];
  const all = clusters.flatMap((c) => namespaces.flatMap((ns) => names.map((n) => modelSlice(c, ns, n))));

  it('orders every pair as the qualified names compare as text', () => {
    const wrong: string[] = [];
    for (const a of all)
      for (const b of all) if (Math.sign(compareSlices(a, b)) !== byText(a, b)) wrong.push(`${qualified(a)} vs ${qualified(b)}`);
    expect(wrong).toEqual([]);
  });

  it('sorts as the qualified names sort', () => {
    // A fixed shuffle, so a failure repeats.
    let seed = 7;
    const shuffled = [...all].sort(() => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 3) - 1);
    expect([...shuffled].sort(compareSlices).map(qualified)).toEqual([...shuffled].sort(byText).map(qualified));
  });
});

describe('the snapshot with slices in several clusters', () => {
  const objects = (): unknown[] => [
    node('w1'),
    service('web'),
    service('api'),
    slice('web-b', { service: 'web', endpoints: [ep('10.0.0.2', 'w1')] }),
    slice('web-a', { service: 'web', endpoints: [ep('10.0.0.1', 'w1')] }),
    slice('api-a', { service: 'api', endpoints: [ep('10.0.1.1', 'w1')] }),
    inCluster('remote-1', [
      slice('web-a', { service: 'web', endpoints: [ep('10.1.0.1', 'w1')] }),
      slice('api-a', { service: 'api', endpoints: [ep('10.1.1.1', 'w1')] }),
    ]),
    inCluster('c', [slice('web-z', { service: 'web', endpoints: [ep('10.2.0.1', 'w1')] })]),
  ];

  it('groups each Service in qualified-name order, Services in the order of their first slice', () => {
    const { snapshot, rejected } = buildSnapshot(objects());
    expect(rejected).toEqual([]);
    expect([...snapshot.endpointSlices.keys()]).toEqual(['sample/web', 'sample/api']);
    expect(snapshot.endpointSlices.get('sample/web')?.map(qualified)).toEqual([
      'c/sample/web-z',
      'remote-1/sample/web-a',
      'sample/web-a',
      'sample/web-b',
    ]);
    expect(snapshot.endpointSlices.get('sample/api')?.map(qualified)).toEqual(['remote-1/sample/api-a', 'sample/api-a']);
  });

  it('keeps that order when the store adds a slice alone', () => {
    const store = new SnapshotStore();
    store.rebuild(objects());
    store.apply([
      {
        kind: 'EndpointSlice',
        name: 'sample/web-0',
        cluster: 'remote-1',
        object: slice('web-0', { service: 'web', endpoints: [ep('10.1.0.9', 'w1')] }),
      },
    ]);
    expect(store.snapshot.endpointSlices.get('sample/web')?.map(qualified)).toEqual([
      'c/sample/web-z',
      'remote-1/sample/web-0',
      'remote-1/sample/web-a',
      'sample/web-a',
      'sample/web-b',
    ]);
  });

  it('rejects a slice whose qualified name repeats another, even through a "/" in a name', () => {
    const first = slice('b/c', { service: 'web', namespace: 'a', endpoints: [] });
    const second = slice('c', { service: 'web', namespace: 'a/b', endpoints: [] });
    const { snapshot, rejected } = buildSnapshot([first, second]);
    const message = 'duplicate EndpointSlice a/b/c; the first one is kept';
    expect(rejected).toEqual([{ code: 'duplicate', kind: 'EndpointSlice', name: 'a/b/c', index: 1, message }]);
    expect(snapshot.endpointSlices.get('a/web')?.map((s) => s.name)).toEqual(['b/c']);
  });

  it('rejects the same slice twice in one cluster but not in two', () => {
    const web = (): unknown => slice('web-a', { service: 'web', endpoints: [] });
    const { rejected } = buildSnapshot([web(), inCluster('remote-1', [web(), web()]), web()]);
    expect(rejected.map((r) => [r.name, r.index])).toEqual([
      ['remote-1/sample/web-a', 2],
      ['sample/web-a', 3],
    ]);
  });
});
