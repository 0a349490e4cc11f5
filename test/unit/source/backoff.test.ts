import { describe, expect, it } from 'vitest';
import { ExponentialBackoff } from '../../../pkg/source/backoff.js';

describe('ExponentialBackoff', () => {
  it('doubles from the initial delay, stops at the cap, and starts over after reset', () => {
    const backoff = new ExponentialBackoff({ initialMs: 100, maxMs: 1_000, jitter: 0 });
    expect(Array.from({ length: 6 }, () => backoff.next())).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it('spreads delays by the jitter fraction but never past the cap', () => {
    const backoff = new ExponentialBackoff({ initialMs: 100, maxMs: 150, jitter: 0.5 }, () => 1);
    expect(backoff.next()).toBe(150);
    expect(backoff.next()).toBe(150);
  });

  it('stays finite after very many failures', () => {
    const backoff = new ExponentialBackoff({ initialMs: 1, maxMs: 30_000, jitter: 0 });
    for (let i = 0; i < 10_000; i += 1) backoff.next();
    expect(backoff.next()).toBe(30_000);
  });
});
