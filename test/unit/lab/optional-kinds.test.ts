import { describe, expect, it } from 'vitest';
import { listOptionalKinds, type ListCall } from '../../../lab/kubelet/optional-kinds.js';
import { ApiRequestError } from '../../../lab/kubelet/rest.js';

const RULE = { metadata: { name: 'web', namespace: 'sample' }, spec: { host: 'web' } };

/** An API server that serves DestinationRules at these versions only, holding RULE. */
function serving(versions: readonly string[], asked: string[] = []): ListCall {
  return (path) => {
    asked.push(path);
    const version = /^\/apis\/networking\.istio\.io\/([^/]+)\/destinationrules$/.exec(path)?.[1];
    if (version && versions.includes(version)) return Promise.resolve({ items: [RULE] });
    return Promise.reject(new ApiRequestError(404, 'GET', path, 'the server could not find the requested resource'));
  };
}

describe("the lab's settlement lists optional kinds as the agents watch them", () => {
  it('lists DestinationRules at v1 when served, read as v1 DestinationRules', async () => {
    expect(await listOptionalKinds(serving(['v1', 'v1beta1']))).toEqual([
      ['DestinationRule', [{ ...RULE, kind: 'DestinationRule', apiVersion: 'networking.istio.io/v1' }]],
    ]);
  });

  it('falls back to the first older version served, and still reads the rules as v1', async () => {
    const asked: string[] = [];
    expect(await listOptionalKinds(serving(['v1alpha3'], asked))).toEqual([
      ['DestinationRule', [{ ...RULE, kind: 'DestinationRule', apiVersion: 'networking.istio.io/v1' }]],
    ]);
    expect(asked).toEqual([
      '/apis/networking.istio.io/v1/destinationrules',
      '/apis/networking.istio.io/v1beta1/destinationrules',
      '/apis/networking.istio.io/v1alpha3/destinationrules',
    ]);
  });

  it('lists none when the CRD is not installed, and passes any other failure on', async () => {
    expect(await listOptionalKinds(serving([]))).toEqual([['DestinationRule', []]]);
    const broken: ListCall = (path) => Promise.reject(new ApiRequestError(500, 'GET', path, 'etcd is down'));
    await expect(listOptionalKinds(broken)).rejects.toThrow(/HTTP 500/);
  });
});
