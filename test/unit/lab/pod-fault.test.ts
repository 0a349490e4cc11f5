// lab fault's nft script: SYNs to the pod's ports refused or dropped, the prober's address and
// loopback let through, and a fault replacing or clearing the previous one in one transaction.
import { describe, expect, it } from 'vitest';
import { parseControlRequest } from '../../../lab/control-protocol.js';
import { FAULT_TABLE, faultScript } from '../../../lab/pod-fault.js';

const target = { ports: [5000, 9080], proberAddress: '10.10.255.254' };
const ruleOf = (script: string): string =>
  script
    .split('\n')
    .find((l) => l.includes('tcp flags'))!
    .trim();

describe('lab fault', () => {
  it('refuses the SYNs to the pod ports with a reset, after letting the prober and loopback through', () => {
    const script = faultScript('refuse', target);
    const lines = script.split('\n').map((l) => l.trim());
    expect(ruleOf(script)).toBe('tcp dport { 5000, 9080 } tcp flags & (fin | syn | rst | ack) == syn reject with tcp reset');
    expect(lines.indexOf('ip saddr 10.10.255.254 accept')).toBeGreaterThan(0);
    expect(lines.indexOf('iifname "lo" accept')).toBeGreaterThan(0);
    expect(lines.indexOf('ip saddr 10.10.255.254 accept')).toBeLessThan(lines.indexOf(ruleOf(script)));
  });

  it('drops them for --drop, and faults every TCP port of a pod that declares none', () => {
    expect(ruleOf(faultScript('drop', target))).toMatch(/ drop$/);
    expect(ruleOf(faultScript('drop', { ports: [], proberAddress: '10.10.255.254' }))).toMatch(/^meta l4proto tcp tcp flags/);
    expect(faultScript('drop', { ports: [80], proberAddress: 'fd00::1' })).toContain('ip6 saddr fd00::1 accept');
  });

  it('replaces any previous fault, and clearing only removes the table', () => {
    for (const fault of ['refuse', 'drop', 'clear'] as const)
      expect(faultScript(fault, target).startsWith(`table inet ${FAULT_TABLE} {}\ndelete table inet ${FAULT_TABLE}\n`)).toBe(true);
    expect(faultScript('clear', target)).toBe(`table inet ${FAULT_TABLE} {}\ndelete table inet ${FAULT_TABLE}\n`);
  });

  it('reads a fault request from the control socket, and refuses an unknown fault', () => {
    expect(parseControlRequest({ op: 'fault', target: 'p', fault: 'refuse' })).toEqual({
      op: 'fault',
      namespace: 'default',
      target: 'p',
      fault: 'refuse',
    });
    expect(() => parseControlRequest({ op: 'fault', target: 'p', fault: 'explode' })).toThrow(/expected one of refuse, drop, clear/);
  });
});
