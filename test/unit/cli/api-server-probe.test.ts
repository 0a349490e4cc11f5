import { createServer, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiServerUnreachableError, probeApiServer } from '../../../cmd/agent/api-server-source.js';
import { FakeApiServer } from '../source/fake-api-server.js';

function kubeConfigFor(server: string, skipTLSVerify = true): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 't', server, skipTLSVerify }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'c', cluster: 't', user: 'u' }],
    currentContext: 'c',
  });
  return kc;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

async function probeError(kc: KubeConfig, timeoutMs?: number): Promise<ApiServerUnreachableError> {
  try {
    await probeApiServer(kc, timeoutMs);
  } catch (error) {
    if (error instanceof ApiServerUnreachableError) return error;
    throw error;
  }
  throw new Error('the probe succeeded');
}

describe('the API server probe', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('calls a closed port unreachable, naming the server and the refusal', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const error = await probeError(kubeConfigFor(`http://127.0.0.1:${port}`));
    expect(error.network).toBe(true);
    expect(error.message).toMatch(new RegExp(`^API server http://127\\.0\\.0\\.1:${port} unreachable: .*ECONNREFUSED`));
  });

  it('counts any HTTP answer as reachable, even a 404 for /version', async () => {
    const api = new FakeApiServer();
    const url = await api.listen();
    cleanups.push(() => api.close());
    await expect(probeApiServer(kubeConfigFor(url))).resolves.toBeUndefined();
    expect(api.requests.map((r) => r.path)).toEqual(['/version']);
  });

  it('calls a server that accepts but never answers unreachable after the timeout', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    const port = await listen(silent);
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });
    const error = await probeError(kubeConfigFor(`http://127.0.0.1:${port}`), 200);
    expect(error.network).toBe(true);
    expect(error.message).toContain('no answer within 200 ms');
  });

  it('tells a client that cannot even send (plain http without skipTLSVerify) from a network failure', async () => {
    const error = await probeError(kubeConfigFor('http://127.0.0.1:1', false));
    expect(error.network).toBe(false);
    expect(error.message).toMatch(
      /^request to API server http:\/\/127\.0\.0\.1:1 failed \(not a network error; check the kubeconfig\): .*skipTLSVerify/,
    );
  });
});
