/*
 * The optional kinds (a DestinationRule CRD) as the lab's settlement lists them: every object at
 * the first of the kind's versions the API server serves, read as the agents read it (stamped
 * with the kind's first apiVersion), and none when no version is served. Agents watch these
 * kinds once served; a settlement without them would plan nodes without the rules the agents
 * programmed, and wait forever.
 */
import { MODEL_KINDS, type WatchedKind } from '../../pkg/model/index.js';
import { ApiRequestError } from './rest.js';

type Item = Record<string, unknown>;
export type ListCall = (path: string) => Promise<{ items: Item[] }>;

export async function listOptionalKinds(list: ListCall): Promise<Array<readonly [WatchedKind, Item[]]>> {
  return Promise.all(
    MODEL_KINDS.filter((k) => k.optional).map(async (info): Promise<readonly [WatchedKind, Item[]]> => {
      for (const apiVersion of info.apiVersions) {
        try {
          const { items } = await list(`/apis/${apiVersion}/${info.plural}`);
          return [info.kind, items.map((o) => ({ ...o, kind: info.kind, apiVersion: info.apiVersion }))];
        } catch (error) {
          if (!(error instanceof ApiRequestError && error.status === 404)) throw error;
        }
      }
      return [info.kind, []];
    }),
  );
}
