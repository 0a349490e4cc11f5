// What a real node (lab/real-node) writes for its containerd, CNI plugins and kubelet, and how it
// says that the node components are missing. No root needed: nothing is started.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PodNetwork, clusterDnsAddress } from '../../../lab/ipam.js';
import {
  cniConfigList,
  containerdConfig,
  kubeletArgs,
  kubeletConfiguration,
  nodeDirs,
  resolveNodeBinaries,
  resolveOtherImages,
  resolvePauseImage,
  selfLabels,
} from '../../../lab/real-node/index.js';
import { isLabError } from '../../../lab/errors.js';
import { pino } from 'pino';

const dirs = nodeDirs('/run/nearby-lab/lab1', '/run/nearby-lab/lab1/logs', 'lab1', 'lab1-worker');

function thrown(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (error) {
    if (isLabError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('did not throw');
}

describe('real node addresses', () => {
  const pods = new PodNetwork('10.244.0.0/16');
  it('puts each node outside every pod CIDR, in the lab range the API server answers', () => {
    expect(pods.nodeHostAddress(0)).toBe('10.244.255.1');
    expect(pods.nodeHostAddress(3)).toBe('10.244.255.4');
    expect(pods.nodeCidr(3)).toBe('10.244.3.0/24');
    expect(pods.podRange).toBe('10.244.0.0/16');
    expect(clusterDnsAddress('10.96.0.0/16')).toBe('10.96.0.10');
  });
});

describe('a real node directory layout', () => {
  it('gives each node its own socket, root, state and netns', () => {
    const other = nodeDirs('/run/nearby-lab/lab1', '/run/nearby-lab/lab1/logs', 'lab1', 'lab1-worker2');
    for (const key of ['containerdSocket', 'containerdRoot', 'containerdState', 'cniIpamDir', 'kubeletRoot', 'netns'] as const)
      expect(dirs[key]).not.toBe(other[key]);
    expect(dirs.netns).toBe('nbl.lab1._node.lab1-worker');
  });

  it('refuses a socket path longer than a unix socket can be', () => {
    expect(thrown(() => nodeDirs(`/run/${'x'.repeat(90)}`, '/tmp', 'lab1', 'lab1-worker')).code).toBe('invalid');
  });
});

describe('containerd config', () => {
  const text = containerdConfig({ dirs, runc: '/bin/runc', cniBinDir: '/cni', pauseImage: 'registry.k8s.io/pause:3.10.2' });
  it('names only the node own paths, cgroupfs runc and the imported pause image', () => {
    expect(text).toContain(`root = "${dirs.containerdRoot}"`);
    expect(text).toContain(`state = "${dirs.containerdState}"`);
    expect(text).toContain(`address = "${dirs.containerdSocket}"`);
    expect(text).toContain('SystemdCgroup = false');
    expect(text).toContain('restrict_oom_score_adj = true');
    expect(text).toContain('sandbox = "registry.k8s.io/pause:3.10.2"');
    expect(text).toContain(`conf_dir = "${dirs.cniConfDir}"`);
    expect(text).not.toContain('/var/lib/containerd');
    expect(text).not.toContain('/run/containerd/');
  });
});

describe('CNI config', () => {
  const list = JSON.parse(cniConfigList({ podCidr: '10.244.1.0/24', podRange: '10.244.0.0/16', ipamDir: '/x/ipam' })) as {
    plugins: Array<Record<string, unknown> & { ipam: Record<string, unknown> }>;
  };
  const bridge = list.plugins[0]!;
  it('hands out the node pod CIDR with only the lab pod range routed: no default route, no masquerade', () => {
    expect(bridge['type']).toBe('bridge');
    expect(bridge['isDefaultGateway']).toBe(false);
    expect(bridge['ipMasq']).toBe(false);
    expect(bridge.ipam['ranges']).toEqual([[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]]);
    expect(bridge.ipam['routes']).toEqual([{ dst: '10.244.0.0/16' }]);
    expect(bridge.ipam['dataDir']).toBe('/x/ipam');
  });
  it('routes the API server address through the node when the lab publishes one', () => {
    const withApi = JSON.parse(
      cniConfigList({ podCidr: '10.244.1.0/24', podRange: '10.244.0.0/16', ipamDir: '/x', apiServer: '172.30.0.1' }),
    ) as typeof list;
    expect(withApi.plugins[0]!.ipam['routes']).toEqual([{ dst: '10.244.0.0/16' }, { dst: '172.30.0.1/32' }]);
  });
});

describe('kubelet config', () => {
  const settings = {
    dirs,
    nodeName: 'lab1-worker',
    nodeIp: '10.244.255.2',
    cgroupRoot: '/nearby-lab/lab1/lab1-worker',
    clientCaFile: '/ca.crt',
    serving: { cert: '/kubelet-serving.crt', key: '/kubelet-serving.key' },
    clusterDns: '10.96.0.10',
    labels: { 'topology.kubernetes.io/zone': 'z1' },
    taints: [],
  };
  const config = parse(kubeletConfiguration(settings)) as Record<string, unknown>;
  it('runs on this host cgroup v1 layout under the node own cgroup root', () => {
    expect(config).toMatchObject({
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: '/nearby-lab/lab1/lab1-worker',
      failSwapOn: false,
      containerRuntimeEndpoint: `unix://${dirs.containerdSocket}`,
      address: '10.244.255.2',
      podLogsDir: dirs.podLogsDir,
    });
  });
  it('serves with the certificate the API server verifies and takes its client certificates from the lab CA', () => {
    expect(config).toMatchObject({
      tlsCertFile: '/kubelet-serving.crt',
      tlsPrivateKeyFile: '/kubelet-serving.key',
      authentication: { anonymous: { enabled: false }, x509: { clientCAFile: '/ca.crt' } },
      authorization: { mode: 'Webhook' },
    });
  });
  it('passes its own root dir, name and address', () => {
    const args = kubeletArgs(settings);
    expect(args).toContain(`--root-dir=${dirs.kubeletRoot}`);
    expect(args).toContain('--hostname-override=lab1-worker');
    expect(args).toContain('--node-ip=10.244.255.2');
    expect(args).toContain('--node-labels=topology.kubernetes.io/zone=z1');
  });
  it('leaves labels a kubelet may not set on its own Node to the admin', () => {
    expect(
      selfLabels({
        'node-role.kubernetes.io/control-plane': '',
        'topology.kubernetes.io/zone': 'z',
        'kubernetes.io/hostname': 'h',
        app: 'x',
      }),
    ).toEqual({
      own: { 'topology.kubernetes.io/zone': 'z', 'kubernetes.io/hostname': 'h', app: 'x' },
      byAdmin: { 'node-role.kubernetes.io/control-plane': '' },
    });
  });
});

describe('missing node components', () => {
  it('is a prereq error naming make node-components', () => {
    const cache = mkdtempSync(join(tmpdir(), 'real-node-'));
    const error = thrown(() => resolveNodeBinaries({ NEARBY_CACHE: cache }));
    expect(error.code).toBe('prereq');
    expect(error.message).toContain('make node-components');
  });

  it('names every missing binary', () => {
    const cache = mkdtempSync(join(tmpdir(), 'real-node-'));
    const bin = join(cache, 'node', 'set', 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(cache, 'node', 'current.json'), JSON.stringify({ binDir: bin, cniBinDir: bin }));
    const error = thrown(() => resolveNodeBinaries({ NEARBY_CACHE: cache }));
    expect(error.code).toBe('prereq');
    for (const name of ['kubelet', 'containerd', 'runc', 'bridge', 'host-local', 'loopback'])
      expect(error.message).toContain(join(bin, name));
  });

  it('says when the pause image was not built', () => {
    const cache = mkdtempSync(join(tmpdir(), 'real-node-'));
    const error = thrown(() => resolvePauseImage({ NEARBY_CACHE: cache }));
    expect(error.code).toBe('prereq');
    expect(error.message).toContain('registry.k8s.io/pause:3.10.2');
  });

  it('imports every other built image, and only warns (naming make images) for what is missing', () => {
    const cache = mkdtempSync(join(tmpdir(), 'real-node-'));
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    expect(resolveOtherImages(logger, { NEARBY_CACHE: cache })).toEqual([]);
    expect(lines.join('')).toContain('make images');
    mkdirSync(join(cache, 'images'), { recursive: true });
    const curl = join(cache, 'curl.tar');
    writeFileSync(curl, '');
    const archives = {
      'registry.k8s.io/pause:3.10.2': join(cache, 'pause.tar'),
      'docker.io/curlimages/curl:latest': curl,
      'docker.io/istio/examples-helloworld-v1:latest': join(cache, 'absent.tar'),
    };
    writeFileSync(join(cache, 'images', 'current.json'), JSON.stringify({ archives }));
    lines.length = 0;
    expect(resolveOtherImages(logger, { NEARBY_CACHE: cache })).toEqual([{ name: 'docker.io/curlimages/curl:latest', archive: curl }]);
    expect(lines.join('')).toContain('examples-helloworld-v1');
  });
});
