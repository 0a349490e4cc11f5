/*
 * Which iptables kube-proxy's iptables mode runs. kube-proxy execs `iptables`, `iptables-save` and
 * `iptables-restore` (and the ip6 ones) by name from its PATH. On this distribution those names
 * are iptables 1.8 over nf_tables; a node whose rules are in the legacy x_tables runs the legacy
 * binaries under the same names (the official kube-proxy image's wrapper picks one of the two by
 * the rules the node already has). The legacy peer gets a directory of those names, each a link
 * to `xtables-legacy-multi`, first on its PATH, and every tool the peer runs in its namespace
 * (cleanup, rule checks) runs with the same PATH. The legacy tools also serialize on a lock file,
 * /run/xtables.lock by default: one per machine, shared by every namespace. A real node has one
 * kube-proxy; two peers here would wait on each other's restores (kube-proxy gives up after 5 s
 * and retries), so each peer gets its own lock file (XTABLES_LOCKFILE), as each node has.
 */
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type IptablesBackend = 'nft' | 'legacy';

/** The names kube-proxy and its cleanup run, as Debian's iptables package installs them. */
const IPTABLES_NAMES = ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore'];
const LEGACY_MULTI = 'xtables-legacy-multi';

function findOnPath(name: string, path: string): string | undefined {
  return [...path.split(delimiter), '/usr/sbin', '/sbin']
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, name))
    .find((file) => existsSync(file));
}

/**
 * For the legacy backend: makes `<dir>/iptables-legacy-bin` and returns the argv prefix that puts
 * it first on PATH with the peer's own lock file (`env PATH=... XTABLES_LOCKFILE=...`; env execs,
 * so a spawned program keeps the PID we hold). For the system's own backend: no prefix.
 */
export function iptablesEnvPrefix(backend: IptablesBackend, dir: string): string[] {
  if (backend === 'nft') return [];
  const path = process.env.PATH ?? '';
  const multi = findOnPath(LEGACY_MULTI, path);
  if (!multi) throw new Error(`the legacy iptables backend needs ${LEGACY_MULTI} (Debian's iptables package); not found on PATH`);
  const bin = join(dir, 'iptables-legacy-bin');
  mkdirSync(bin, { recursive: true });
  for (const name of IPTABLES_NAMES) if (!existsSync(join(bin, name))) symlinkSync(multi, join(bin, name));
  return ['env', `PATH=${bin}${delimiter}${path}`, `XTABLES_LOCKFILE=${join(dir, 'xtables.lock')}`];
}
