// The Service CIDR's first address goes into the apiserver's serving certificate; a wrong one
// breaks every pod's TLS to the `kubernetes` Service.
import { describe, expect, it } from 'vitest';
import { firstServiceIp } from '../../../lab/control-plane/service-cidr.js';

describe('firstServiceIp', () => {
  it("is the range's network address plus one, whatever host bits the range is written with", () => {
    expect(firstServiceIp('10.96.0.0/16')).toBe('10.96.0.1');
    expect(firstServiceIp('10.96.0.0/12')).toBe('10.96.0.1');
    expect(firstServiceIp('10.96.3.7/16')).toBe('10.96.0.1');
    expect(firstServiceIp('192.168.7.200/29')).toBe('192.168.7.201');
    expect(firstServiceIp('fd00:10:96::/108')).toBe('fd00:10:96::1');
    expect(firstServiceIp('fd00::ffff/112')).toBe('fd00::1');
  });

  it('refuses what the apiserver would refuse, before anything starts', () => {
    for (const cidr of ['10.96.0.0/30', '10.96.0.0/32', 'fd00::/126', '10.96.0.0', '10.96.0.0/x', '10.96.0/16', 'fd00::/16/1']) {
      // eslint-disable-next-line @typescript-eslint/no-unsafe-argument -- toThrow takes an asymmetric matcher, which vitest types as any
      expect(() => firstServiceIp(cidr), cidr).toThrow(expect.objectContaining({ code: 'usage' }));
    }
  });
});
