// Which pins uninstall may remove: only what the loader pins, where it pins it, as the kind of
// object it pins, under the name the kernel keeps. Everything else is someone else's.
import { describe, expect, it } from 'vitest';
import { ATTACH_TYPES, kernelName, MAP_LAYOUTS, ownershipOf, PROGRAMS } from '../../../pkg/datapath/index.js';

const link = (progName: string | undefined, linkType = 'cgroup', attachType = ATTACH_TYPES.nearby_connect4) =>
  ({ kind: 'link', linkType, attachType, progName }) as const;
const map = (name: string) => ({ kind: 'map', name }) as const;

describe('ownershipOf', () => {
  it('owns every map the object defines, pinned under maps/ by its name', () => {
    for (const layout of Object.values(MAP_LAYOUTS)) expect(ownershipOf('maps', layout.name, map(layout.name))).toEqual({ owned: true });
    expect(ownershipOf('maps', 'sock_meta', map('sock_meta'))).toEqual({ owned: true });
  });

  it('owns the same maps under maps-next/, where an upgrade to another layout builds them, and the control map', () => {
    for (const name of [...Object.values(MAP_LAYOUTS).map((l) => l.name), 'control'])
      expect(ownershipOf('maps-next', name, map(kernelName(name)))).toEqual({ owned: true });
    expect(ownershipOf('maps-next', 'other', map('other')).owned).toBe(false);
  });

  it('owns every program link under links/, by the name the kernel truncates to 15 characters', () => {
    for (const program of PROGRAMS)
      expect(ownershipOf('links', program, link(kernelName(program), 'cgroup', ATTACH_TYPES[program]))).toEqual({ owned: true });
    expect(kernelName('nearby_getpeername4')).toBe('nearby_getpeern');
  });

  it('refuses a name nearby never pins', () => {
    expect(ownershipOf('maps', 'conntrack', map('conntrack'))).toMatchObject({ owned: false, reason: /no map of nearby's/ });
    expect(ownershipOf('links', 'cilium_sock4', link('cilium_sock4'))).toMatchObject({ owned: false, reason: /no program of nearby's/ });
  });

  it("refuses a pin under nearby's name whose kernel object is named otherwise", () => {
    expect(ownershipOf('maps', 'services', map('lb4_services'))).toMatchObject({ owned: false, reason: /"lb4_services", not services/ });
    expect(ownershipOf('links', 'nearby_connect4', link('sock4_connect'))).toMatchObject({ owned: false, reason: /"sock4_connect"/ });
  });

  it('refuses the wrong kind of object, and a link of another type', () => {
    expect(ownershipOf('maps', 'services', { kind: 'prog' })).toMatchObject({ owned: false, reason: /a prog where nearby pins a map/ });
    expect(ownershipOf('maps', 'services', link('services'))).toMatchObject({ owned: false });
    expect(ownershipOf('links', 'nearby_connect4', map('nearby_connect4'))).toMatchObject({ owned: false, reason: /a map where/ });
    expect(ownershipOf('links', 'nearby_connect4', link('nearby_connect4', 'xdp'))).toMatchObject({ owned: false, reason: /xdp link/ });
    expect(ownershipOf('links', 'nearby_connect4', { kind: 'directory' })).toMatchObject({ owned: false });
  });

  it('without CAP_SYS_ADMIN (no program name), owns a cgroup link by its attach type alone', () => {
    expect(ownershipOf('links', 'nearby_connect4', link(undefined))).toEqual({ owned: true });
    expect(ownershipOf('links', 'nearby_sockops', link(undefined, 'cgroup', ATTACH_TYPES.nearby_connect4))).toMatchObject({
      owned: false,
      reason: /attach type 10; nearby_sockops attaches as 3/,
    });
  });

  it('refuses a link whose program is gone: nothing proves it is ours', () => {
    expect(ownershipOf('links', 'nearby_connect4', link(''))).toMatchObject({ owned: false });
  });

  it('refuses anything outside maps/ and links/, even under a name of nearby', () => {
    expect(ownershipOf('', 'services', map('services'))).toMatchObject({ owned: false, reason: 'nearby pins nothing here' });
    expect(ownershipOf('progs', 'nearby_connect4', link('nearby_connect4'))).toMatchObject({ owned: false });
  });
});
