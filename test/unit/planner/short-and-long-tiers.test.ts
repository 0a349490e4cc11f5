/**
 * Short and long endpoint lists take different paths (a scan or a Map to tell endpoints apart,
 * insertion or Array.prototype.sort to order a tier): both give one endpoint per address and
 * port, the most usable copy, ordered numerically by address and then by port.
 */
import { describe, expect, it } from 'vitest';
import { ep, planFor, seedNodes, service, slice, tierAddresses, entryOf } from './fixtures.js';

const random = service('helloworld');
const NOT_READY = { ready: false, serving: false } as const;

/** `count` addresses on w1, out of order: 10.0.x.y with x and y scrambled. */
function addresses(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `10.0.${(i * 7) % 3}.${(i * 37) % 251}`);
}

const numeric = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);

describe.each([5, 32, 33, 40])('%i endpoints', (count) => {
  it('are ordered by address, once each, the ready copy kept', () => {
    const all = addresses(count);
    // Slice a lists the first half not ready; slice b lists every address ready, listing the
    // first half again: they must appear once, ready.
    const half = all.slice(0, Math.ceil(count / 2));
    const objects = [
      ...seedNodes(),
      random,
      slice('hw-a', { service: 'helloworld', endpoints: half.map((a) => ep(a, 'w1', NOT_READY)) }),
      slice('hw-b', { service: 'helloworld', endpoints: [...all].reverse().map((a) => ep(a, 'w1')) }),
    ];
    const result = planFor(objects, 'w1');
    expect(tierAddresses(result)).toEqual([[...new Set(all)].sort((a, b) => numeric(a) - numeric(b))]);
    expect(entryOf(result).tiers[0]!.endpoints.every((e) => !e.terminating)).toBe(true);
  });

  it('on two target ports are ordered by address, then port', () => {
    const all = [...new Set(addresses(count))];
    const objects = [
      ...seedNodes(),
      random,
      slice('hw-a', { service: 'helloworld', ports: [{ name: 'http', port: 6000 }], endpoints: all.map((a) => ep(a, 'w1')) }),
      slice('hw-b', { service: 'helloworld', ports: [{ name: 'http', port: 5000 }], endpoints: all.map((a) => ep(a, 'w1')) }),
    ];
    const tier = entryOf(planFor(objects, 'w1')).tiers[0]!.endpoints.map((e) => `${e.address}:${e.port}`);
    const expected = all.sort((a, b) => numeric(a) - numeric(b)).flatMap((a) => [`${a}:5000`, `${a}:6000`]);
    expect(tier).toEqual(expected);
  });
});
