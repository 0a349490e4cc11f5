// The agent's API-server override (issue 17), as Cilium's k8sServiceHost/k8sServicePort: a host
// and a port, from flags or env, both or neither, checked; only with the in-cluster credentials;
// and the kubeconfig built from them keeps the service account's CA and token but dials the
// override instead of KUBERNETES_SERVICE_HOST/PORT.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseAgentOptions } from '../../../cmd/agent/options.js';
import { StartupError } from '../../../cmd/startup-error.js';
import { loadKubeConfig } from '../../../pkg/source/index.js';

const BASE = { NODE_NAME: 'w1', NEARBY_CGROUP_PATH: '/sys/fs/cgroup/nearby-test/w1' };

function failure(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseAgentOptions(argv, { ...BASE, ...env });
  } catch (error) {
    if (error instanceof StartupError) return `${error.problem}: ${error.message}`;
    throw error;
  }
  return 'none';
}

describe('--api-server-host and --api-server-port', () => {
  it('are unset by default: the in-cluster config as it is', () => {
    expect(parseAgentOptions([], BASE)?.apiServer).toBeUndefined();
    // An empty value (the chart's default) is no value.
    expect(parseAgentOptions([], { ...BASE, NEARBY_API_SERVER_HOST: '', NEARBY_API_SERVER_PORT: '' })?.apiServer).toBeUndefined();
  });

  it('come from flags or env, the flag winning', () => {
    expect(parseAgentOptions(['--api-server-host', '172.30.0.1', '--api-server-port', '6443'], BASE)?.apiServer).toEqual({
      host: '172.30.0.1',
      port: 6443,
    });
    const env = { ...BASE, NEARBY_API_SERVER_HOST: 'api.example.internal', NEARBY_API_SERVER_PORT: '443' };
    expect(parseAgentOptions([], env)?.apiServer).toEqual({ host: 'api.example.internal', port: 443 });
    expect(parseAgentOptions(['--api-server-host', 'fd00::1'], env)?.apiServer).toEqual({ host: 'fd00::1', port: 443 });
  });

  it('refuses one without the other, a URL or host:port as host, and a port out of range', () => {
    expect(failure(['--api-server-host', '172.30.0.1'])).toMatch(
      /^bad-option: --api-server-host\/NEARBY_API_SERVER_HOST: needs --api-server-port/,
    );
    expect(failure([], { NEARBY_API_SERVER_PORT: '6443' })).toMatch(
      /^bad-option: --api-server-port\/NEARBY_API_SERVER_PORT: needs --api-server-host/,
    );
    expect(failure(['--api-server-host', 'https://172.30.0.1', '--api-server-port', '6443'])).toMatch(
      /neither an IP address nor a DNS name/,
    );
    expect(failure(['--api-server-host', '172.30.0.1:6443', '--api-server-port', '6443'])).toMatch(/neither an IP address nor a DNS name/);
    for (const port of ['0', '65536', '64x', '-1'])
      expect(failure(['--api-server-host', '172.30.0.1', `--api-server-port=${port}`])).toMatch(/expected a port from 1 to 65535/);
  });

  it('apply to the in-cluster config only: a kubeconfig or a state dir names its own source', () => {
    const override = ['--api-server-host', '172.30.0.1', '--api-server-port', '6443'];
    expect(failure([...override, '--kubeconfig', '/k'])).toMatch(/in-cluster config only, not with --kubeconfig/);
    expect(failure(override, { NEARBY_STATE_DIR: '/tmp/state' })).toMatch(/in-cluster config only, not with --state-dir/);
  });
});

describe('the in-cluster kubeconfig with the override', () => {
  beforeEach(() => {
    // What the kubelet sets in every pod: the `kubernetes` Service, which only nearby would serve.
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '10.96.0.1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '443');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('dials the override with the service account CA and token', () => {
    const kc = loadKubeConfig(undefined, { host: '172.30.0.1', port: 6443 });
    expect(kc.getCurrentCluster()).toMatchObject({
      server: 'https://172.30.0.1:6443',
      caFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
      skipTLSVerify: false,
    });
    expect(kc.getCurrentUser()?.authProvider).toEqual({
      name: 'tokenFile',
      config: { tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' },
    });
  });

  it('brackets an IPv6 host, and without an override dials the Service variables', () => {
    expect(loadKubeConfig(undefined, { host: 'fd00::1', port: 6443 }).getCurrentCluster()?.server).toBe('https://[fd00::1]:6443');
    expect(loadKubeConfig().getCurrentCluster()?.server).toBe('https://10.96.0.1:443');
  });
});
