import { type BpfMap, type DatapathMaps, MAP_LAYOUTS, type MapDump, ServiceWriter } from '../../pkg/datapath/index.js';
import { benchSpec } from './writer-fixture.js';
class NullMap implements BpfMap {
  ops = { reads: 0, writes: 0, deletes: 0 };
  constructor(
    readonly name: string,
    readonly keySize: number,
    readonly valueSize: number,
    readonly capacity = 1e9,
  ) {}
  update(): void {
    this.ops.writes++;
  }
  lookup(): Buffer | undefined {
    return undefined;
  }
  delete(): boolean {
    this.ops.deletes++;
    return true;
  }
  dump(): MapDump {
    return { count: 0, keySize: this.keySize, valueSize: this.valueSize, keys: Buffer.alloc(0), values: Buffer.alloc(0) };
  }
  updateBatch(_k: Buffer, _v: Buffer, n: number) {
    this.ops.writes += n;
    return { written: n, errno: 0 };
  }
}
const m = (r: keyof typeof MAP_LAYOUTS) => new NullMap(MAP_LAYOUTS[r].name, MAP_LAYOUTS[r].keySize, MAP_LAYOUTS[r].valueSize);
const maps: DatapathMaps = {
  services: m('services'),
  slots: m('slots'),
  backends: m('backends'),
  revNat: m('revNat'),
  counters: m('counters'),
};
const w = ServiceWriter.open(maps);
w.applyMany(Array.from({ length: 10000 }, (_, s) => benchSpec(s, 15)));
const specs = Array.from({ length: 30000 }, (_, i) => benchSpec(i % 10000, 15, 1 + (i % 3)));
for (let r = 0; r < 3; r++) {
  const c = process.cpuUsage();
  for (const s of specs) w.apply(s);
  const u = process.cpuUsage(c);
  console.log('upd cpu us', ((u.user + u.system) / specs.length).toFixed(1));
}
