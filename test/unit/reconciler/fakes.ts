/*
 * The real ServiceWriter on in-memory maps, recording which keys each call touched, and a
 * mutable object source, so reconciler tests see exactly which writes a pass makes and check
 * them with the comparison production uses.
 */
import pino from 'pino';
import {
  type BulkResult,
  type DatapathMaps,
  type DriftReport,
  KernelState,
  MapFullError,
  type MapOps,
  memoryMaps,
  type ProgrammedService,
  type ProgrammedTotals,
  readSnapshot,
  resolveServices,
  type ServiceKey,
  serviceKeyText,
  type ServiceSpec,
  ServiceWriter,
} from '../../../pkg/datapath/index.js';
import type { ObjectProvider, ServiceWriterLike } from '../../../pkg/reconciler/index.js';
import type { ChangeListener, ObjectChange, SourceStatus, WatchedKind } from '../../../pkg/source/types.js';

function sameObject(raw: unknown, id: { kind: string; name: string }): boolean {
  const other = objectName(raw);
  return other.kind === id.kind && other.name === id.name;
}

export const silent = pino({ level: 'silent' });

type Op = 'apply' | 'remove' | 'applyMany' | 'repairDrift';

export class RecordingWriter implements ServiceWriterLike {
  readonly calls: Array<{ op: Op; keys: string[] }> = [];
  /** Keys ("vip:port/proto") whose apply throws MapFullError, as a full slots map would. */
  readonly full = new Set<string>();
  readonly writer: ServiceWriter;

  constructor(readonly maps: DatapathMaps = memoryMaps()) {
    this.writer = ServiceWriter.open(maps);
  }

  /** Another writer over the same maps, as a restarted agent opens them. */
  reopen(): RecordingWriter {
    return new RecordingWriter(this.maps);
  }

  /** What a connect resolves through the maps now, by key text: the maps, not the writer's record. */
  get state(): Map<string, ProgrammedService> {
    const { services } = resolveServices(new KernelState(readSnapshot(this.maps)));
    return new Map(services.map((s) => [serviceKeyText(s.key), s]));
  }

  apply(spec: ServiceSpec): ProgrammedService {
    this.calls.push({ op: 'apply', keys: [serviceKeyText(spec.key)] });
    this.refuseIfFull(spec);
    return this.writer.apply(spec);
  }

  remove(key: ServiceKey): boolean {
    this.calls.push({ op: 'remove', keys: [serviceKeyText(key)] });
    return this.writer.remove(key);
  }

  applyMany(specs: readonly ServiceSpec[]): BulkResult {
    this.calls.push({ op: 'applyMany', keys: specs.map((s) => serviceKeyText(s.key)) });
    const refused = specs.filter((s) => this.full.has(serviceKeyText(s.key)));
    const result = this.writer.applyMany(specs.filter((s) => !refused.includes(s)));
    for (const spec of refused) {
      try {
        this.refuseIfFull(spec);
      } catch (error) {
        result.failed.push({ spec, error: error as Error });
      }
    }
    return result;
  }

  repairDrift(): DriftReport {
    const report = this.writer.repairDrift();
    this.calls.push({ op: 'repairDrift', keys: report.drifted });
    return report;
  }

  matches(spec: ServiceSpec): boolean {
    return this.writer.matches(spec);
  }

  keys(): IterableIterator<string> {
    return this.writer.keys();
  }

  keyOf(text: string): ServiceKey | undefined {
    return this.writer.keyOf(text);
  }

  label(key: ServiceKey): string | undefined {
    return this.writer.label(key);
  }

  relabel(key: ServiceKey, label: string): void {
    this.writer.relabel(key, label);
  }

  nodeIdOf(address: string, port: number): number | undefined {
    return this.writer.nodeIdOf(address, port);
  }

  totals(): ProgrammedTotals {
    return this.writer.totals();
  }

  mapOps(): Record<string, MapOps> {
    return this.writer.mapOps();
  }

  /** Keys touched by apply/remove/applyMany/repairDrift since the last reset. */
  touched(op?: Op): string[] {
    return this.calls.filter((c) => op === undefined || c.op === op).flatMap((c) => c.keys);
  }

  resetCalls(): void {
    this.calls.length = 0;
  }

  private refuseIfFull(spec: ServiceSpec): void {
    const key = serviceKeyText(spec.key);
    if (this.full.has(key)) throw new MapFullError('slots', `${spec.label} ${key}`, 4);
  }
}

/** "namespace/name" or "name", as a source keys an object. */
export function objectName(raw: unknown): { kind: string; name: string } {
  const o = raw as { kind: string; metadata: { name: string; namespace?: string } };
  return { kind: o.kind, name: o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name };
}

export class FakeSource implements ObjectProvider {
  private listeners: ChangeListener[] = [];
  synced = true;

  constructor(private current: unknown[]) {}

  objects(): readonly unknown[] {
    return this.current;
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  status(): SourceStatus {
    return { synced: this.synced, lastSyncMs: this.synced ? Date.now() : 0 };
  }

  /** Replaces the objects and signals, as a watch event would. */
  set(objects: unknown[]): void {
    this.current = objects;
    this.emit();
  }

  /** Replaces the objects without signalling; emit() then names what changed. */
  replace(objects: unknown[]): void {
    this.current = objects;
  }

  emit(changes?: ObjectChange[]): void {
    for (const listener of this.listeners) listener(changes);
  }

  /** Adds or replaces an object by kind and name and names the change, as an informer would. */
  upsert(raw: unknown): void {
    const id = objectName(raw);
    this.current = [...this.current.filter((o) => !sameObject(o, id)), raw];
    this.emit([{ kind: id.kind as WatchedKind, name: id.name, object: raw }]);
  }

  remove(kind: WatchedKind, name: string): void {
    this.current = this.current.filter((o) => !sameObject(o, { kind, name }));
    this.emit([{ kind, name, object: undefined }]);
  }
}
