import { ApisApi, type KubeConfig } from '@kubernetes/client-node';
import type { WatchedKindInfo } from '../model/index.js';
import { ListTimeoutError } from './errors.js';
import { withTimeout } from './with-timeout.js';

/** Asks the API server which version of a CRD-served kind it serves; undefined when none. */
export type ServedVersionLookup = (info: WatchedKindInfo) => Promise<string | undefined>;

/**
 * Through discovery (GET /apis), which every authenticated client may read, so it needs no RBAC
 * beyond the kind's own get/list/watch. The table's order is the preference: v1 before v1beta1
 * before v1alpha3, since an API server may serve several at once.
 */
export function servedVersionLookup(kc: KubeConfig, timeoutMs: number): ServedVersionLookup {
  const apis = kc.makeApiClient(ApisApi);
  return async (info) => {
    // Bounded, as lists are: a hung answer would otherwise hold up every later check, and stop().
    const groups = await withTimeout(apis.getAPIVersions(), timeoutMs, () => new ListTimeoutError(timeoutMs));
    const served = new Set(groups.groups.find((group) => group.name === info.group)?.versions.map(({ version }) => version) ?? []);
    const wanted = info.apiVersions.map((apiVersion) => apiVersion.slice(info.group.length + 1));
    return wanted.find((version) => served.has(version));
  };
}
