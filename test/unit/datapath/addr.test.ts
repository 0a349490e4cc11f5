import { describe, expect, it } from 'vitest';
import { canonicalAddress, familyOf } from '../../../pkg/datapath/index.js';

describe('addresses', () => {
  it.each([
    ['10.96.0.10', '10.96.0.10'],
    ['fd00:10:96::a', 'fd00:10:96::a'],
    ['FD00:0010:0096:0000:0000:0000:0000:000A', 'fd00:10:96::a'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['::ffff:a00:1', '::ffff:10.0.0.1'],
  ])('%s is written canonically as %s', (input, canonical) => {
    expect(canonicalAddress(input)).toBe(canonical);
  });

  it('rejects what is not an address, naming it', () => {
    expect(() => familyOf('10.96.0.300')).toThrow(/10.96.0.300/);
    expect(() => canonicalAddress('')).toThrow(/not an IP address/);
  });

  it('tells the family', () => {
    expect(familyOf('10.0.0.1')).toBe(4);
    expect(familyOf('fd00::1')).toBe(6);
  });
});
