// The pure parts of the benchmarks' kube-proxy peer: the configuration it runs with (the settings
// a non-initial namespace needs, listeners kept inside it) and how crashed runs' peers are told
// from live ones (by the owner's PID and start time, never by a process name), and how the
// legacy iptables backend is put in front of kube-proxy.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { refOf } from '../../../lab/processes.js';
import { cleanupPeerLeftovers, iptablesEnvPrefix, kubeProxyConfig, peerLeftovers } from '../../bench/peers/index.js';

describe('kubeProxyConfig', () => {
  const render = (minSyncPeriodMs?: number) =>
    parse(
      kubeProxyConfig({
        mode: 'nftables',
        kubeconfig: '/k',
        nodeName: 'n1',
        nodeIp: '10.250.0.1',
        ...(minSyncPeriodMs === undefined ? {} : { minSyncPeriodMs }),
      }),
    ) as Record<string, Record<string, unknown>>;

  it('leaves the global conntrack limit alone and keeps its listeners on loopback inside the namespace', () => {
    const config = render();
    expect(config.conntrack).toMatchObject({ maxPerCore: 0, min: 0 });
    expect(config.healthzBindAddress).toMatch(/^127\.0\.0\.1:/);
    expect(config.metricsBindAddress).toMatch(/^127\.0\.0\.1:/);
    expect(config).toMatchObject({
      mode: 'nftables',
      hostnameOverride: 'n1',
      bindAddress: '10.250.0.1',
      clientConnection: { kubeconfig: '/k' },
    });
  });

  it("uses kube-proxy's default minimum sync period unless asked for its fastest", () => {
    expect(render().nftables).toMatchObject({ minSyncPeriod: '1000ms' });
    expect(render(0).iptables).toMatchObject({ minSyncPeriod: '0ms' });
  });
});

describe('iptablesEnvPrefix', () => {
  it('leaves the system iptables alone for the nft backend', () => {
    expect(iptablesEnvPrefix('nft', '/nowhere')).toEqual([]);
  });

  it("puts the legacy tools under kube-proxy's names first on PATH, with the peer's own xtables lock", () => {
    const dir = mkdtempSync(join(tmpdir(), 'nearby-iptables-backend-'));
    try {
      const [env, path, lock, ...rest] = iptablesEnvPrefix('legacy', dir);
      expect(rest).toEqual([]);
      expect(env).toBe('env');
      const bin = join(dir, 'iptables-legacy-bin');
      expect(path?.startsWith(`PATH=${bin}:`)).toBe(true);
      expect(lock).toBe(`XTABLES_LOCKFILE=${join(dir, 'xtables.lock')}`);
      for (const name of ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore'])
        expect(readlinkSync(join(bin, name))).toMatch(/\/xtables-legacy-multi$/);
      // Again over the same directory (a peer restarted in it): the links are kept, not an error.
      expect(iptablesEnvPrefix('legacy', dir)).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('peer leftovers', () => {
  let base: string;
  beforeEach(() => (base = mkdtempSync(join(tmpdir(), 'nearby-peers-unit-'))));
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const peer = (name: string, owner: { pid: number; startTime: string }) => {
    mkdirSync(join(base, name));
    writeFileSync(join(base, name, 'record.json'), JSON.stringify({ owner, netns: 'ns', processes: [] }));
  };

  it("counts a peer whose owner is gone or whose PID now belongs to another process, never a live owner's", async () => {
    const exited = spawnSync('true').pid;
    peer(`${process.pid}-live-1`, refOf(process.pid)!);
    peer(`${exited}-dead-1`, { pid: exited, startTime: '1' });
    peer(`${process.pid}-reused-1`, { pid: process.pid, startTime: 'not-its-start-time' });
    expect(
      peerLeftovers(base)
        .map((l) => l.dir)
        .sort(),
    ).toEqual([join(base, `${exited}-dead-1`), join(base, `${process.pid}-reused-1`)].sort());

    await cleanupPeerLeftovers(base);
    expect(peerLeftovers(base)).toEqual([]);
  });
});
