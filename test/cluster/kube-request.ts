/*
 * Raw API requests with a kubeconfig's credentials, loaded the way the agent loads them
 * (@kubernetes/client-node's KubeConfig), for tests that assert on HTTP status codes: 403 from
 * RBAC, 410 from a compacted watch. A watch is read only up to its first event.
 */
import { request, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

export interface ApiAnswer {
  readonly status: number;
  /** The whole body, or for a watch its first event line. */
  readonly body: string;
}

export function loadKubeconfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export async function apiRequest(kc: KubeConfig, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const server = new URL(kc.getCurrentCluster()!.server);
  const headers: Record<string, string> = { accept: 'application/json' };
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (payload !== undefined) {
    headers['content-type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  const options: RequestOptions = { method, hostname: server.hostname, port: server.port, path, headers, timeout: 15_000 };
  await kc.applyToHTTPSOptions(options);
  const isWatch = /[?&]watch=(1|true)\b/.test(path);
  return new Promise((resolve, reject) => {
    const req = request(options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      const done = () => resolve({ status: res.statusCode ?? 0, body: isWatch ? text.split('\n')[0]! : text });
      res.on('data', (chunk: string) => {
        text += chunk;
        // A watch stays open; its first event is all a test needs.
        if (isWatch && text.includes('\n')) {
          done();
          res.destroy();
        }
      });
      res.on('end', done);
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}
