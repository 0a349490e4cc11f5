/*
 * `lab fault`: a pod that stops accepting connections while it stays Ready, as a sidecar whose
 * listeners were drained does. An nft table in the pod's own network namespace refuses (RST) or
 * drops the SYNs to its TCP container ports. The readiness prober connects from the bridge
 * address and is let through, so readiness does not see the fault: only the clients do. The
 * table lives in the pod's namespace, so it goes with the pod (deleted, or `lab down`).
 */
import { run } from './exec.js';
import { LabError } from './errors.js';
import { findExecutable } from './host.js';

export const POD_FAULTS = ['refuse', 'drop', 'clear'] as const;
export type PodFault = (typeof POD_FAULTS)[number];

export const isPodFault = (value: unknown): value is PodFault => POD_FAULTS.includes(value as PodFault);

/** The nft table a fault lives in, inside the pod's namespace. */
export const FAULT_TABLE = 'nearby_lab_fault';

export interface FaultTarget {
  /** The pod's TCP container ports; none declared: every TCP port. */
  readonly ports: readonly number[];
  /** Where the readiness prober connects from (the bridge address). */
  readonly proberAddress: string;
}

/**
 * One nft transaction: the table is declared, deleted and (unless clearing) built again, so a
 * fault replaces the previous one and clearing a pod without a fault is no error.
 */
export function faultScript(fault: PodFault, target: FaultTarget): string {
  const reset = [`table inet ${FAULT_TABLE} {}`, `delete table inet ${FAULT_TABLE}`];
  if (fault === 'clear') return `${reset.join('\n')}\n`;
  const family = target.proberAddress.includes(':') ? 'ip6' : 'ip';
  const ports = target.ports.length > 0 ? ` tcp dport { ${target.ports.join(', ')} }` : ' meta l4proto tcp';
  // Only a connection's first SYN: connections already open keep working, as after a drain.
  const syn = 'tcp flags & (fin | syn | rst | ack) == syn';
  const verdict = fault === 'refuse' ? 'reject with tcp reset' : 'drop';
  return [
    ...reset,
    `table inet ${FAULT_TABLE} {`,
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    `    iifname "lo" accept`,
    `    ${family} saddr ${target.proberAddress} accept`,
    `   ${ports} ${syn} ${verdict}`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Runs the fault's script in the pod's namespace (`ip netns exec NS nft -f -`). */
export async function applyPodFault(ip: string, netns: string, fault: PodFault, target: FaultTarget): Promise<void> {
  const nft = findExecutable('nft');
  if (!nft) throw new LabError('prereq', 'lab fault needs nft (Debian package nftables; make apt installs it)');
  await run(ip, ['netns', 'exec', netns, nft, '-f', '-'], { input: faultScript(fault, target) });
}
