// The C header and the TypeScript codecs describe the same bytes: compare them through the BTF
// that clang emitted into the compiled object, so a change to one side alone fails here.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultObjectPath, STRUCTS } from '../../../pkg/datapath/index.js';

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
      const btfFields = Object.fromEntries(
        s!.members!.map((m) => [m.name, [m.bits_offset / 8, sizeOf(types, m.type_id)] as const]),
      );
      expect(btfFields).toEqual(layout.fields);
    });
  }

  it('every nearby_* struct in the object has a codec layout', () => {
    const inObject = [...structs.keys()].filter((n) => n.startsWith('nearby_')).sort();
    expect(inObject).toEqual(Object.keys(STRUCTS).sort());
  });
});
