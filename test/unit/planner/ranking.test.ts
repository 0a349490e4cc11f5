/** Ranking: walk the scopes widest first; tier = scopes - rank; network-first; empty values. */
import { describe, expect, it } from 'vitest';
import {
  failoverTierCount,
  PREFER_CLOSE_SCOPES,
  PREFER_SAME_NODE_SCOPES,
  PREFER_SAME_ZONE_SCOPES,
  rankEndpoint,
  type Locality,
  type Scope,
} from '../../../pkg/planner/index.js';
import { ep, node, planFor, service, slice, tierAddresses, tiers } from './fixtures.js';

const client: Locality = { network: 'n1', region: 'r1', zone: 'z1', subzone: 's1', node: 'a' };

interface Row {
  name: string;
  scopes: readonly Scope[];
  endpoint: Locality;
  tier: number;
  client?: Locality;
}

const rows: Row[] = [
  { name: 'same subzone', scopes: PREFER_CLOSE_SCOPES, endpoint: { ...client, node: 'b' }, tier: 0 },
  { name: 'same zone, other subzone', scopes: PREFER_CLOSE_SCOPES, endpoint: { ...client, subzone: 's2' }, tier: 1 },
  { name: 'other zone', scopes: PREFER_CLOSE_SCOPES, endpoint: { ...client, zone: 'z2', subzone: 's9' }, tier: 2 },
  {
    name: 'the first mismatch stops the walk: other zone, same subzone name',
    scopes: PREFER_CLOSE_SCOPES,
    endpoint: { ...client, zone: 'z2' },
    tier: 2,
  },
  { name: 'other region', scopes: PREFER_CLOSE_SCOPES, endpoint: { ...client, region: 'r2' }, tier: 3 },
  {
    name: 'other network, rest the same: below every same-network tier',
    scopes: PREFER_CLOSE_SCOPES,
    endpoint: { ...client, network: 'n2' },
    tier: 4,
  },
  { name: 'other network, other subzone', scopes: PREFER_CLOSE_SCOPES, endpoint: { ...client, network: 'n2', subzone: 's2' }, tier: 5 },
  { name: 'other network, other zone', scopes: PREFER_CLOSE_SCOPES, endpoint: { ...client, network: 'n2', zone: 'z2' }, tier: 6 },
  { name: 'other network, other region', scopes: PREFER_CLOSE_SCOPES, endpoint: { ...client, network: 'n2', region: 'r2' }, tier: 7 },
  { name: 'unknown locality matches nothing', scopes: PREFER_CLOSE_SCOPES, endpoint: {}, tier: 7 },
  { name: 'an empty value does not match a set one', scopes: PREFER_CLOSE_SCOPES, endpoint: { ...client, zone: '' }, tier: 2 },
  {
    name: 'two empty values match',
    scopes: PREFER_CLOSE_SCOPES,
    client: { network: '', region: '', zone: '', subzone: '', node: 'a' },
    endpoint: { network: '', region: '', zone: '', subzone: '', node: 'b' },
    tier: 0,
  },
  {
    name: 'empty network on both sides is the same network',
    scopes: PREFER_CLOSE_SCOPES,
    client: { ...client, network: '' },
    endpoint: { ...client, network: '', subzone: 's2' },
    tier: 1,
  },
  { name: 'PreferSameZone: same zone', scopes: PREFER_SAME_ZONE_SCOPES, endpoint: { ...client, subzone: 's2' }, tier: 0 },
  { name: 'PreferSameZone: other zone', scopes: PREFER_SAME_ZONE_SCOPES, endpoint: { ...client, zone: 'z2' }, tier: 1 },
  { name: 'PreferSameZone: other region', scopes: PREFER_SAME_ZONE_SCOPES, endpoint: { ...client, region: 'r2' }, tier: 2 },
  { name: 'PreferSameZone: other network, same zone', scopes: PREFER_SAME_ZONE_SCOPES, endpoint: { ...client, network: 'n2' }, tier: 3 },
  {
    name: 'PreferSameZone: other network, other region',
    scopes: PREFER_SAME_ZONE_SCOPES,
    endpoint: { ...client, network: 'n2', region: 'r2' },
    tier: 5,
  },
  { name: 'PreferSameNode: same node', scopes: PREFER_SAME_NODE_SCOPES, endpoint: client, tier: 0 },
  { name: 'PreferSameNode: same subzone, other node', scopes: PREFER_SAME_NODE_SCOPES, endpoint: { ...client, node: 'b' }, tier: 1 },
  { name: 'PreferSameNode: other region', scopes: PREFER_SAME_NODE_SCOPES, endpoint: { ...client, region: 'r2' }, tier: 4 },
  {
    name: 'PreferSameNode: other network, same subzone',
    scopes: PREFER_SAME_NODE_SCOPES,
    endpoint: { ...client, network: 'n2', node: 'x' },
    tier: 6,
  },
  {
    name: 'PreferSameNode: farther other-network endpoints merge into the last tier (max 8)',
    scopes: PREFER_SAME_NODE_SCOPES,
    endpoint: { ...client, network: 'n2', region: 'r2', node: 'x' },
    tier: 7,
  },
  {
    name: 'a scope list without network: the first mismatch stops at once',
    scopes: ['region', 'zone'],
    endpoint: { ...client, network: 'n2', region: 'r2' },
    tier: 2,
  },
  {
    name: 'zone field only, same zone: sharing the zone implies its region and network',
    scopes: PREFER_CLOSE_SCOPES,
    endpoint: { zone: 'z1', node: 'gone' },
    tier: 1,
  },
  { name: 'zone field only, other zone: matches nothing', scopes: PREFER_CLOSE_SCOPES, endpoint: { zone: 'z2' }, tier: 7 },
  {
    name: 'client node unknown: only its own node name is known, and it implies the rest',
    scopes: PREFER_SAME_NODE_SCOPES,
    client: { node: 'a' },
    endpoint: { ...client },
    tier: 0,
  },
  {
    name: 'client node unknown: other endpoints match nothing',
    scopes: PREFER_CLOSE_SCOPES,
    client: { node: 'a' },
    endpoint: { ...client, node: 'b' },
    tier: 7,
  },
];

describe('rankEndpoint', () => {
  it.each(rows)('$name → tier $tier', (row) => {
    expect(rankEndpoint(row.client ?? client, row.endpoint, row.scopes).tier).toBe(row.tier);
  });

  it('reports the walk up to the scope that stopped it', () => {
    const ranking = rankEndpoint(client, { ...client, zone: 'z2' }, PREFER_CLOSE_SCOPES);
    expect(ranking).toEqual({
      rank: 2,
      otherNetwork: false,
      tier: 2,
      steps: [
        { scope: 'network', client: 'n1', endpoint: 'n1', match: true, implied: false },
        { scope: 'region', client: 'r1', endpoint: 'r1', match: true, implied: false },
        { scope: 'zone', client: 'z1', endpoint: 'z2', match: false, implied: false },
      ],
    });
  });

  it('keeps walking past a different network', () => {
    const ranking = rankEndpoint(client, { ...client, network: 'n2', subzone: 's2' }, PREFER_CLOSE_SCOPES);
    expect(ranking.otherNetwork).toBe(true);
    expect(ranking.steps.map((s) => [s.scope, s.match])).toEqual([
      ['network', false],
      ['region', true],
      ['zone', true],
      ['subzone', false],
    ]);
  });
});

describe('failoverTierCount', () => {
  it.each([
    { scopes: PREFER_CLOSE_SCOPES, count: 8 },
    { scopes: PREFER_SAME_ZONE_SCOPES, count: 6 },
    { scopes: PREFER_SAME_NODE_SCOPES, count: 8 },
    { scopes: ['region', 'zone'] as Scope[], count: 3 },
  ])('$scopes → $count tiers', ({ scopes, count }) => {
    expect(failoverTierCount(scopes)).toBe(count);
  });
});

describe('ranking in a plan', () => {
  // Client on a. Every kind of distance has one node.
  const nodes = [
    node('a', { network: 'n1', region: 'r1', zone: 'z1', subzone: 's1' }),
    node('b', { network: 'n1', region: 'r1', zone: 'z1', subzone: 's2' }),
    node('c', { network: 'n1', region: 'r1', zone: 'z2', subzone: 's1' }),
    node('d', { network: 'n1', region: 'r2', zone: 'z1', subzone: 's1' }),
    node('e', { network: 'n2', region: 'r1', zone: 'z1', subzone: 's1' }),
    node('f', { network: 'n2', region: 'r1', zone: 'z2', subzone: 's1' }),
    node('g', { network: 'n2', region: 'r2', zone: 'z1', subzone: 's1' }),
  ];
  const addressOf = (name: string): string => `10.0.${name.charCodeAt(0) - 96}.1`;
  const endpoints = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => ep(addressOf(n), n));
  const objects = (distribution: string): unknown[] => [
    ...nodes,
    service('helloworld', { trafficDistribution: distribution }),
    slice('hw-1', { service: 'helloworld', endpoints }),
  ];

  it('PreferClose: tier index is the distance, with empty tiers kept', () => {
    expect(tierAddresses(planFor(objects('PreferClose'), 'a'))).toEqual(
      tiers(8, {
        0: [addressOf('a')],
        1: [addressOf('b')],
        // c shares the subzone name s1, but the walk stopped at its other zone.
        2: [addressOf('c')],
        3: [addressOf('d')],
        4: [addressOf('e')],
        6: [addressOf('f')],
        7: [addressOf('g')],
      }),
    );
  });

  it('PreferSameZone: 6 tiers, subzone not compared', () => {
    expect(tierAddresses(planFor(objects('PreferSameZone'), 'a'))).toEqual(
      tiers(6, {
        0: [addressOf('a'), addressOf('b')],
        1: [addressOf('c')],
        2: [addressOf('d')],
        3: [addressOf('e')],
        4: [addressOf('f')],
        5: [addressOf('g')],
      }),
    );
  });

  it('PreferSameNode: the own node alone in tier 0', () => {
    expect(tierAddresses(planFor(objects('PreferSameNode'), 'a'))).toEqual(
      tiers(8, {
        0: [addressOf('a')],
        2: [addressOf('b')],
        3: [addressOf('c')],
        4: [addressOf('d')],
        6: [addressOf('e')],
        7: [addressOf('f'), addressOf('g')],
      }),
    );
  });

  it('the client side is this node: the same snapshot ranks differently from another node', () => {
    expect(tierAddresses(planFor(objects('PreferClose'), 'g'))).toEqual(
      tiers(8, {
        0: [addressOf('g')],
        // e and f share g's network but not its region.
        3: [addressOf('e'), addressOf('f')],
        // d is in another network but shares the rest of g's locality.
        4: [addressOf('d')],
        7: [addressOf('a'), addressOf('b'), addressOf('c')],
      }),
    );
  });
});
