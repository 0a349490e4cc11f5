/*
 * Creating Services at Kubernetes' scale limits fast: N selector-less Services, each with one
 * EndpointSlice the benchmark writes, through the API server's REST API over a few kept-alive
 * connections with bounded concurrency (kubectl would cost a process and a discovery per call).
 * Each Service's slice is written once its ClusterIP is known, so a returned Service is complete.
 * replaceEndpoints() is the change bench:programming times.
 */
import { Agent, request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { endpointSlice, selectorlessService, type ServicePorts } from './api-objects.js';

export interface BulkServicesOptions extends ServicePorts {
  /** A kubeconfig allowed to create Namespaces, Services and EndpointSlices (the lab's admin). */
  readonly kubeconfig: string;
  /** Created when missing. */
  readonly namespace: string;
  readonly count: number;
  /** Service i is `${prefix}-${i}`; default `svc`. */
  readonly prefix?: string;
  /** The endpoints' addresses of Service i (at most 1,000: one slice each). */
  readonly endpointsOf: (index: number) => readonly string[];
  readonly nodeName?: string;
  /** Requests in flight at once; default 32. */
  readonly concurrency?: number;
  readonly onProgress?: (created: number) => void;
}

export interface BulkService {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIP: string;
  readonly port: number;
  readonly endpoints: readonly string[];
}

/** A REST client for a handful of paths, with the kubeconfig's server, CA and credentials. */
export class ApiWriter {
  private readonly server: URL;
  private readonly agent: Agent;
  private readonly headers: Record<string, string> = {};

  private constructor(kc: KubeConfig, tls: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer }, concurrency: number) {
    this.server = new URL(kc.getCurrentCluster()!.server);
    const token = kc.getCurrentUser()?.token;
    if (token) this.headers.authorization = `Bearer ${token}`;
    this.agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: tls.ca, cert: tls.cert, key: tls.key });
  }

  static async open(kubeconfig: string, concurrency = 32): Promise<ApiWriter> {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const tls: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer } = {};
    await kc.applyToHTTPSOptions(tls);
    return new ApiWriter(kc, tls, concurrency);
  }

  /** The decoded answer; throws with the status and body unless 2xx, or 409 when allowed. */
  send(method: string, path: string, body?: unknown, allowConflict = false): Promise<Record<string, unknown>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { ...this.headers, accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const req = request(
        { method, hostname: this.server.hostname, port: this.server.port, path, headers, agent: this.agent, timeout: 60_000 },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if ((status >= 200 && status < 300) || (status === 409 && allowConflict))
              resolve(text ? (JSON.parse(text) as Record<string, unknown>) : {});
            else reject(new Error(`${method} ${path}: HTTP ${status}: ${text.slice(0, 500)}`));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

async function boundedEach(count: number, concurrency: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export async function createBulkServices(options: BulkServicesOptions): Promise<BulkService[]> {
  const concurrency = options.concurrency ?? 32;
  const api = await ApiWriter.open(options.kubeconfig, concurrency);
  const { namespace } = options;
  const prefix = options.prefix ?? 'svc';
  try {
    await api.send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, true);
    const created: BulkService[] = new Array<BulkService>(options.count);
    let done = 0;
    await boundedEach(options.count, concurrency, async (index) => {
      const name = `${prefix}-${index}`;
      const service = await api.send('POST', `/api/v1/namespaces/${namespace}/services`, selectorlessService(namespace, name, options));
      const clusterIP = (service.spec as { clusterIP?: string } | undefined)?.clusterIP;
      if (!clusterIP) throw new Error(`Service ${namespace}/${name} got no clusterIP`);
      const endpoints = options.endpointsOf(index);
      await api.send(
        'POST',
        `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
        endpointSlice(namespace, name, endpoints, options, options.nodeName),
      );
      created[index] = { namespace, name, clusterIP, port: options.port, endpoints };
      options.onProgress?.(++done);
    });
    return created;
  } finally {
    api.close();
  }
}

/** Replaces a bulk Service's endpoints (its one slice) with `addresses`: one API write. */
export async function replaceEndpoints(
  api: ApiWriter,
  service: BulkService,
  addresses: readonly string[],
  ports: ServicePorts,
  nodeName?: string,
): Promise<void> {
  const slice = endpointSlice(service.namespace, service.name, addresses, ports, nodeName);
  const name = (slice.metadata as { name: string }).name;
  await api.send('PUT', `/apis/discovery.k8s.io/v1/namespaces/${service.namespace}/endpointslices/${name}`, slice);
}
