/*
 * An in-memory ServiceWriterLike and a mutable object source, so reconciler tests see exactly
 * which writes a pass makes.
 */
import pino from 'pino';
import { MapFullError } from '../../../pkg/datapath/errors.js';
import type { BulkResult } from '../../../pkg/datapath/writer.js';
import type { ProgrammedService, ServiceKey, ServiceSpec } from '../../../pkg/datapath/types.js';
import { serviceKeyText, type ObjectProvider, type ServiceWriterLike } from '../../../pkg/reconciler/index.js';
import type { ChangeListener, ObjectChange, SourceStatus, WatchedKind } from '../../../pkg/source/types.js';

function sameObject(raw: unknown, id: { kind: string; name: string }): boolean {
  const other = objectName(raw);
  return other.kind === id.kind && other.name === id.name;
}

export const silent = pino({ level: 'silent' });

export class FakeWriter implements ServiceWriterLike {
  readonly state = new Map<string, ProgrammedService>();
  readonly calls: Array<{ op: 'apply' | 'remove' | 'applyMany'; keys: string[] }> = [];
  /** Keys ("vip:port/proto") whose apply throws MapFullError. */
  readonly full = new Set<string>();
  private nextId = 1;
  private nextBackend = 1;
  private readonly backendIds = new Map<string, number>();

  apply(spec: ServiceSpec): ProgrammedService {
    this.calls.push({ op: 'apply', keys: [serviceKeyText(spec.key)] });
    return this.write(spec);
  }

  remove(key: ServiceKey): boolean {
    this.calls.push({ op: 'remove', keys: [serviceKeyText(key)] });
    return this.state.delete(serviceKeyText(key));
  }

  applyMany(specs: readonly ServiceSpec[]): BulkResult {
    this.calls.push({ op: 'applyMany', keys: specs.map((s) => serviceKeyText(s.key)) });
    const result: BulkResult = { applied: [], failed: [] };
    for (const spec of specs) {
      try {
        result.applied.push(this.write(spec));
      } catch (error) {
        result.failed.push({ spec, error: error as Error });
      }
    }
    return result;
  }

  programmed(): ProgrammedService[] {
    return [...this.state.values()];
  }

  get(key: ServiceKey): ProgrammedService | undefined {
    return this.state.get(serviceKeyText(key));
  }

  /** Keys touched by apply/remove/applyMany since the last reset. */
  touched(op?: 'apply' | 'remove' | 'applyMany'): string[] {
    return this.calls.filter((c) => op === undefined || c.op === op).flatMap((c) => c.keys);
  }

  resetCalls(): void {
    this.calls.length = 0;
  }

  private write(spec: ServiceSpec): ProgrammedService {
    const key = serviceKeyText(spec.key);
    if (this.full.has(key)) throw new MapFullError('slots', `${spec.label} ${key}`, 4);
    const old = this.state.get(key);
    const programmed: ProgrammedService = {
      key: spec.key,
      id: old?.id ?? this.nextId++,
      mode: spec.mode,
      weights: Array.from({ length: 8 }, (_, t) => spec.weights?.[t] ?? 0),
      tiers: Array.from({ length: 8 }, (_, t) =>
        (spec.tiers[t] ?? []).map((b) => {
          const bk = `${b.address}#${b.port}`;
          const id = this.backendIds.get(bk) ?? this.nextBackend++;
          this.backendIds.set(bk, id);
          return { ...b, id };
        }),
      ),
    };
    this.state.set(key, programmed);
    return programmed;
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
