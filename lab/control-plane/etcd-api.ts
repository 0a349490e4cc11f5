/*
 * The control plane's direct etcd calls, through etcd's HTTP/JSON gateway so no etcdctl is
 * needed: compacting away every revision a client may have seen, which is how a test makes a
 * stale resourceVersion answer 410 Gone.
 */
import { ControlPlaneError } from './errors.js';

interface ResponseHeader {
  readonly header?: { readonly revision?: string };
}

async function post<T>(clientUrl: string, path: string, body: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${clientUrl}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new ControlPlaneError('system', 'etcd', `POST ${clientUrl}${path} failed: ${(error as Error).message}`, undefined, {
      cause: error,
    });
  }
  const text = await response.text();
  if (!response.ok) throw new ControlPlaneError('system', 'etcd', `POST ${clientUrl}${path}: HTTP ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Outside the apiserver's /registry prefix, so no Kubernetes object or watch ever sees it. */
const MARKER_KEY = Buffer.from('/nearby-lab/compaction-marker').toString('base64');

/** A write's new revision: etcd's revision after it. */
async function writeMarker(clientUrl: string): Promise<number> {
  const reply = await post<ResponseHeader>(clientUrl, '/v3/kv/put', {
    key: MARKER_KEY,
    value: Buffer.from(String(Date.now())).toString('base64'),
  });
  const revision = Number(reply.header?.revision);
  if (!Number.isSafeInteger(revision) || revision <= 0) {
    throw new ControlPlaneError('system', 'etcd', `etcd answered a put without a revision: ${JSON.stringify(reply)}`);
  }
  return revision;
}

/**
 * Compacts etcd so that every revision that existed before the call is gone, and returns the
 * revision compacted to. Compacting to the current revision R alone would not do: a watch from
 * R-1 starts at R, which survives. Two writes first put R two past anything a client has seen.
 */
export async function compactAllSeen(clientUrl: string): Promise<number> {
  await writeMarker(clientUrl);
  const revision = await writeMarker(clientUrl);
  // physical: return only once the compaction is applied, so the caller can rely on it at once.
  await post(clientUrl, '/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}
