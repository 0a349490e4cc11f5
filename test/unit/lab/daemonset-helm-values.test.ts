// `helm install` on the real-node lab sets only what places the chart on this machine: the local
// image, the lab's API server (read from its kubeconfig), the host's bpffs and cgroup2 mount, and
// each node's subtree below that mount. Nothing about resources or probes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { labHelmInstallArgs, labHelmValues, NEARBY_CHART } from '../../../lab/daemonset-helm-values.js';

const HOST = { bpffs: '/sys/fs/bpf', cgroup2: '/sys/fs/cgroup/unified' };
let stateDir: string | undefined;

function labState(server: string): { stateDir: string; cgroupRoot: string } {
  stateDir = mkdtempSync(join(tmpdir(), 'helm-values-'));
  writeFileSync(
    join(stateDir, 'kubeconfig'),
    `apiVersion: v1\nkind: Config\nclusters:\n  - name: lab\n    cluster:\n      server: ${server}\n`,
  );
  return { stateDir, cgroupRoot: '/sys/fs/cgroup/unified/nearby-lab/demo' };
}

afterEach(() => {
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  stateDir = undefined;
});

describe('labHelmValues', () => {
  it("sets the local image policy, the lab's API server and the node's own cgroup2 subtree", () => {
    expect(labHelmValues(labState('https://172.30.0.1:6443'), HOST)).toEqual([
      '--set',
      'image.pullPolicy=Never',
      '--set',
      'apiServer.host=172.30.0.1',
      '--set-string',
      'apiServer.port=6443',
      '--set',
      'hostPaths.bpffs=/sys/fs/bpf',
      '--set',
      'hostPaths.cgroup=/sys/fs/cgroup/unified',
      '--set-string',
      'hostPaths.cgroupSubpath=nearby-lab/demo/$(NODE_NAME)',
    ]);
  });

  it('leaves resources and probes to the chart', () => {
    expect(labHelmValues(labState('https://172.30.0.2:6443'), HOST).join(' ')).not.toMatch(/resources|Probe/);
  });

  it("installs the release nearby from deploy/helm/nearby into the agents' namespace", () => {
    const args = labHelmInstallArgs(labState('https://172.30.0.1:6443'), HOST);
    expect(args.slice(0, 6)).toEqual(['install', 'nearby', NEARBY_CHART, '--namespace', 'nearby-system', '--create-namespace']);
    expect(NEARBY_CHART).toMatch(/deploy\/helm\/nearby$/);
  });
});
