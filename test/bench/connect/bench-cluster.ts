/*
 * The Kubernetes side of the connect and programming benchmarks: the lab's real control plane,
 * and the same Services every system is fed, created through its API server once per run
 * (selector-less Services with one EndpointSlice each, written by the benchmark). Service 0 is the
 * one measured: its endpoints are podAddress(0..perService-1), the addresses on every lab
 * namespace's lo. Optionally one more Service, `probe`, with a single endpoint the programming
 * benchmark moves between two answering servers.
 */
import { startTestControlPlane, type TestControlPlane } from '../../cluster/control-plane-fixture.js';
import { agentIdentity } from '../../../lab/control-plane/index.js';
import { benchNode, createBulkServices, type BulkService } from '../peers/index.js';
import { type Layout, podAddress, SERVICE_PORT, TARGET_PORT } from './manifests.js';

export const BENCH_NAMESPACE = 'bench';
export const PORTS = { port: SERVICE_PORT, targetPort: TARGET_PORT } as const;
/** The probe Service's: apart from PORTS, where the endpoint servers of the connect rounds listen. */
export const PROBE_PORTS = { port: 81, targetPort: 8081 } as const;

export interface BenchCluster {
  readonly env: TestControlPlane;
  /** Every bulk Service, index i is svc-i; [0] is the measured one. */
  readonly services: readonly BulkService[];
  readonly probe: BulkService | undefined;
  readonly endpoints: number;
  /** The nearby agent's ServiceAccount kubeconfig (deploy/rbac.yaml, never admin). */
  readonly agentKubeconfig: string;
  readonly createMs: number;
  /** A Node for a system to run as (kube-proxy and the agent look theirs up). */
  createNode(name: string, address: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchCluster(
  layout: Layout,
  options: {
    probeEndpoint?: string;
    log: (line: string) => void;
    /** Told the control plane as soon as it runs, so a run stopped while the Services are still being created can stop it. */
    onControlPlane?: (env: TestControlPlane) => void;
  },
): Promise<BenchCluster> {
  const env = await startTestControlPlane('bench-connect');
  options.onControlPlane?.(env);
  try {
    const agentKubeconfig = await agentIdentity(env.cp);
    const started = performance.now();
    let reported = 0;
    const services = await createBulkServices({
      kubeconfig: env.cp.adminKubeconfig,
      namespace: BENCH_NAMESPACE,
      count: layout.services,
      endpointsOf: (s) => Array.from({ length: layout.perService }, (_, e) => podAddress(s * layout.perService + e)),
      ...PORTS,
      onProgress: (created) => {
        if (created - reported >= 1000 || created === layout.services) {
          reported = created;
          options.log(`created ${created}/${layout.services} Services through the API server`);
        }
      },
    });
    const probeEndpoint = options.probeEndpoint;
    const probe = probeEndpoint
      ? (
          await createBulkServices({
            kubeconfig: env.cp.adminKubeconfig,
            namespace: BENCH_NAMESPACE,
            prefix: 'probe',
            count: 1,
            endpointsOf: () => [probeEndpoint],
            ...PROBE_PORTS,
          })
        )[0]
      : undefined;
    const createMs = Math.round(performance.now() - started);
    return {
      env,
      services,
      probe,
      endpoints: layout.services * layout.perService,
      agentKubeconfig,
      createMs,
      async createNode(name: string, address: string): Promise<void> {
        const applied = await env.cp.kubectl(['apply', '-f', '-'], JSON.stringify(benchNode(name, address)));
        if (applied.code !== 0) throw new Error(`creating Node ${name}: ${applied.stderr}`);
      },
      stop: () => env.stop(),
    };
  } catch (error) {
    await env.stop();
    throw error;
  }
}
