// The agent's multi-cluster flags: off by default (reading Secrets needs a Role a plain install
// lacks), one namespace when on, and a cluster name that is a Secret data key.
import { describe, expect, it } from 'vitest';
import { parseAgentOptions } from '../../../cmd/agent/options.js';

const BASE = ['--node-name', 'w1', '--cgroup-path', '/sys/fs/cgroup'];

describe('agent multi-cluster options', () => {
  it('reads the local cluster only by default, as cluster Kubernetes', () => {
    const options = parseAgentOptions(BASE, {});
    expect(options?.clusterName).toBe('Kubernetes');
    expect(options?.remoteSecretNamespace).toBeUndefined();
  });

  it('reads remote secrets from istio-system, or the namespace given, once turned on', () => {
    expect(parseAgentOptions([...BASE, '--multi-cluster', 'true'], {})?.remoteSecretNamespace).toBe('istio-system');
    const env = { NEARBY_MULTI_CLUSTER: 'true', NEARBY_REMOTE_SECRET_NAMESPACE: 'mesh', NEARBY_CLUSTER_NAME: 'cluster1' };
    expect(parseAgentOptions(BASE, env)).toMatchObject({ remoteSecretNamespace: 'mesh', clusterName: 'cluster1' });
  });

  it('refuses a cluster name that cannot be a Secret data key, and a multi-cluster value that is not a boolean', () => {
    expect(() => parseAgentOptions([...BASE, '--cluster-name', 'a/b'], {})).toThrow(/--cluster-name.*not a cluster name/);
    expect(() => parseAgentOptions([...BASE, '--multi-cluster', 'yes'], {})).toThrow(/--multi-cluster.*true or false/);
    expect(() => parseAgentOptions([...BASE, '--multi-cluster', 'true', '--remote-secret-namespace', 'Bad_NS'], {})).toThrow(
      /--remote-secret-namespace/,
    );
  });
});
