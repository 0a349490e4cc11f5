/*
 * The two etcd calls the control plane makes, through etcd's HTTP/JSON gateway so no etcdctl is
 * needed: the current revision, and a compaction to it. Compacting makes every older
 * resourceVersion unservable, which is how a test provokes 410 Gone for a stale watch.
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
    throw new ControlPlaneError('system', 'etcd', `POST ${clientUrl}${path} failed: ${(error as Error).message}`, undefined, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) throw new ControlPlaneError('system', 'etcd', `POST ${clientUrl}${path}: HTTP ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Keys are base64 in the gateway's JSON; any key will do, only the response header is wanted. */
const ANY_KEY = Buffer.from('/').toString('base64');

export async function currentRevision(clientUrl: string): Promise<number> {
  const reply = await post<ResponseHeader>(clientUrl, '/v3/kv/range', { key: ANY_KEY, count_only: true });
  const revision = Number(reply.header?.revision);
  if (!Number.isSafeInteger(revision) || revision <= 0) {
    throw new ControlPlaneError('system', 'etcd', `etcd answered a range without a revision: ${JSON.stringify(reply)}`);
  }
  return revision;
}

/** Compacts to the current revision and returns it; every earlier revision is gone afterwards. */
export async function compactToCurrent(clientUrl: string): Promise<number> {
  const revision = await currentRevision(clientUrl);
  // physical: return only once the compaction is applied, so the caller can rely on it at once.
  await post(clientUrl, '/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}
