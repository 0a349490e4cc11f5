/*
 * The KubernetesSource as the agent starts it: one cheap request first (GET /version, as kubectl
 * and Cilium's agent do) tells an API server that cannot be reached from one that answers. The
 * informers would retry on their own, but silently; a failed probe instead fails start(), so the
 * agent's start loop retries it with backoff, logs each attempt and says so in /readyz.
 */
import { ApiException, VersionApi, type KubeConfig } from '@kubernetes/client-node';
import { withTimeout, type KubernetesSource, type KubernetesSourceStats, type Source, type SourceStatus } from '../../pkg/source/index.js';

/** A connect that hangs (a blackholed address) counts as unreachable after this long. */
const PROBE_TIMEOUT_MS = 10_000;

/** The probe got no answer. `network` tells a failed connection from a client that never sent. */
export class ApiServerUnreachableError extends Error {
  constructor(
    readonly server: string,
    readonly network: boolean,
    options: { cause: unknown },
  ) {
    const why = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      network
        ? `API server ${server} unreachable: ${why}`
        : `request to API server ${server} failed (not a network error; check the kubeconfig): ${why}`,
      options,
    );
    this.name = 'ApiServerUnreachableError';
  }
}

class ProbeTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'ProbeTimeoutError';
  }
}

/** node-fetch marks every socket-level failure (refused, reset, DNS, TLS, timeout) as type 'system'. */
function isNetworkFailure(error: unknown): boolean {
  return (
    error instanceof ProbeTimeoutError || (typeof error === 'object' && error !== null && (error as { type?: unknown }).type === 'system')
  );
}

/** Resolves once the API server answers anything at all; throws ApiServerUnreachableError otherwise. */
export async function probeApiServer(kc: KubeConfig, timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
  const server = kc.getCurrentCluster()?.server ?? '(no server in the kubeconfig)';
  try {
    await withTimeout(kc.makeApiClient(VersionApi).getCode(), timeoutMs, () => new ProbeTimeoutError(timeoutMs));
  } catch (error) {
    // Any HTTP answer (401, 403, even 404 from a proxy) proves the path works; what is wrong
    // with the answer is the informers' to report, per kind, in the source status.
    if (error instanceof ApiException) return;
    // Retried either way: a credential plugin or a mounted token may be fixed by the next try.
    throw new ApiServerUnreachableError(server, isNetworkFailure(error), { cause: error });
  }
}

export class ProbedKubernetesSource implements Source {
  private stopped = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly inner: KubernetesSource,
  ) {}

  async start(): Promise<void> {
    await probeApiServer(this.kc);
    // stop() may have come while the probe was in flight; starting informers now would leak them.
    if (!this.stopped) await this.inner.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.inner.stop();
  }

  objects(): readonly unknown[] {
    return this.inner.objects();
  }

  onChange(listener: Parameters<Source['onChange']>[0]): void {
    this.inner.onChange(listener);
  }

  status(): SourceStatus {
    return this.inner.status();
  }

  stats(): KubernetesSourceStats {
    return this.inner.stats();
  }
}
