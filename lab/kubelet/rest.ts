/*
 * The few API calls the lab's kubelet makes (register nodes, renew leases, report pod status,
 * remove pods it has stopped), as plain HTTPS requests with the kubeconfig's credentials.
 * client-node's typed clients cannot send a merge patch to a status subresource without
 * ceremony, and the kubelet needs nothing else of them.
 */
import { request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { LabError } from '../errors.js';

export class ApiRequestError extends LabError {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    detail: string,
  ) {
    super(status === 404 ? 'not-found' : status === 409 ? 'conflict' : 'system', `${method} ${path}: HTTP ${status}: ${detail}`);
  }
}

export const MERGE_PATCH = 'application/merge-patch+json';

export class ApiRest {
  private readonly server: URL;

  constructor(private readonly kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new LabError('usage', 'the kubeconfig names no current cluster');
    this.server = new URL(cluster.server);
  }

  async call<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const options: RequestOptions & { headers: Record<string, string> } = {
      method,
      hostname: this.server.hostname,
      port: this.server.port,
      path,
      headers: { accept: 'application/json' },
      timeout: 10_000,
    };
    await this.kc.applyToHTTPSOptions(options);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      options.headers['content-type'] = contentType;
      // Node sends no body for a DELETE unless told its length (it does not chunk DELETEs).
      options.headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise<T>((resolve, reject) => {
      const req = request(options, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve((text ? JSON.parse(text) : undefined) as T);
            return;
          }
          let detail = text.trim();
          try {
            detail = (JSON.parse(text) as { message?: string }).message ?? detail;
          } catch {
            // not a Status object: keep the body as it is
          }
          reject(new ApiRequestError(status, method, path, detail));
        });
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => reject(new LabError('system', `${method} ${path}: ${err.message}`, { cause: err })));
      req.end(payload);
    });
  }
}
