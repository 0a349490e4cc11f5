// The C header and the TypeScript codecs describe the same bytes: compare them through the BTF
// that clang emitted into the compiled object, so a change to one side alone fails here.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Balance, MAX_TIERS, Mode } from '../../../pkg/contract/index.js';
import { defaultObjectPath, MAP_LAYOUTS, STRUCTS } from '../../../pkg/datapath/index.js';

const HEADER = readFileSync(join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'bpf/nearby.h'), 'utf8');

interface BtfType {
  id: number;
  kind: string;
  name?: string;
  size?: number;
  type_id?: number;
  nr_elems?: number;
  members?: Array<{ name: string; type_id: number; bits_offset: number }>;
}

function loadBtf(): Map<number, BtfType> {
  const object = defaultObjectPath();
  if (!existsSync(object)) throw new Error(`${object} is missing: run make bpf (make test does)`);
  const json = JSON.parse(execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', object], { encoding: 'utf8' })) as {
    types: BtfType[];
  };
  return new Map(json.types.map((t) => [t.id, t]));
}

function sizeOf(types: Map<number, BtfType>, id: number): number {
  const t = types.get(id);
  if (!t) throw new Error(`BTF type ${id} missing`);
  switch (t.kind) {
    case 'INT':
    case 'STRUCT':
    case 'UNION':
    case 'ENUM':
      return t.size!;
    case 'ARRAY':
      return t.nr_elems! * sizeOf(types, t.type_id!);
    case 'TYPEDEF':
    case 'CONST':
    case 'VOLATILE':
      return sizeOf(types, t.type_id!);
    default:
      throw new Error(`unexpected BTF kind ${t.kind}`);
  }
}

describe('BTF contract between bpf/nearby.h and pkg/datapath/codecs.ts', () => {
  const types = loadBtf();
  const structs = new Map([...types.values()].filter((t) => t.kind === 'STRUCT' && t.name).map((t) => [t.name!, t]));

  for (const [name, layout] of Object.entries(STRUCTS)) {
    it(`${name} has the same size and fields`, () => {
      const s = structs.get(name);
      expect(s, `struct ${name} is not in the object's BTF`).toBeDefined();
      expect(s!.size).toBe(layout.size);
      const btfFields = Object.fromEntries(s!.members!.map((m) => [m.name, [m.bits_offset / 8, sizeOf(types, m.type_id)] as const]));
      expect(btfFields).toEqual(layout.fields);
    });
  }

  it('every nearby_* struct in the object has a codec layout', () => {
    const inObject = [...structs.keys()].filter((n) => n.startsWith('nearby_')).sort();
    expect(inObject).toEqual(Object.keys(STRUCTS).sort());
  });

  // The enum and the define leave no trace in BTF of their own, so they are read from the header.
  it('MAX_TIERS is NEARBY_MAX_TIERS and the length of the tier arrays in nearby_svc_value', () => {
    expect(Number(/^#define NEARBY_MAX_TIERS (\d+)$/m.exec(HEADER)?.[1])).toBe(MAX_TIERS);
    const value = structs.get('nearby_svc_value')!;
    for (const field of ['count', 'weight']) {
      const member = value.members!.find((m) => m.name === field);
      expect(types.get(member!.type_id)?.nr_elems, field).toBe(MAX_TIERS);
    }
  });

  it('the mode names and values are those of enum nearby_mode', () => {
    const body = /enum nearby_mode \{([^}]*)\}/.exec(HEADER)?.[1] ?? '';
    const inHeader = Object.fromEntries([...body.matchAll(/NEARBY_MODE_([A-Z]+) = (\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
    expect(inHeader).toEqual(Mode);
  });

  it('the balance names and values are those of enum nearby_balance, stored in nearby_svc_value.balance', () => {
    const body = /enum nearby_balance \{([^}]*)\}/.exec(HEADER)?.[1] ?? '';
    const inHeader = Object.fromEntries([...body.matchAll(/NEARBY_BALANCE_([A-Z_]+) = (\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
    expect(inHeader).toEqual(Balance);
    expect(STRUCTS.nearby_svc_value.fields.balance).toEqual([5, 1]);
    expect(Math.max(...Object.values(Balance))).toBeLessThan(256);
  });

  it('every map the agent opens has the key and value sizes MAP_LAYOUTS says, rotation and backend_conns included', () => {
    const vars = new Map([...types.values()].filter((t) => t.kind === 'VAR').map((t) => [t.name!, t]));
    const pointee = (def: BtfType, field: string): number => {
      const member = def.members!.find((m) => m.name === field)!;
      return sizeOf(types, types.get(member.type_id)!.type_id!);
    };
    for (const layout of Object.values(MAP_LAYOUTS)) {
      const def = types.get(vars.get(layout.name)!.type_id!)!;
      expect([pointee(def, 'key'), pointee(def, 'value')], layout.name).toEqual([layout.keySize, layout.valueSize]);
    }
    expect(HEADER).toMatch(/ \* rotation: BPF_MAP_TYPE_HASH/);
    expect(HEADER).toMatch(/ \* backend_conns: BPF_MAP_TYPE_HASH/);
  });
});
