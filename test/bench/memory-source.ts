/*
 * A Source over objects held in memory, naming each change the way an informer does. The
 * control-plane benchmark drives the real reconciler with it, without an API server in the way.
 * Objects go through keepReadFields() on the way in, as the KubernetesSource's caches do, so the
 * memory it holds is what an agent's informers would hold (keepRemoteReadFields() for a remote
 * cluster's, as RemoteClusters' caches do).
 */
import { keepReadFields } from '../../pkg/model/index.js';
import type { ChangeListener, ObjectChange, Source, SourceStatus, WatchedKind } from '../../pkg/source/index.js';

function keyOf(raw: unknown): { kind: WatchedKind; name: string } {
  const o = raw as { kind: WatchedKind; metadata: { name: string; namespace?: string } };
  return { kind: o.kind, name: o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name };
}

export class MemorySource implements Source {
  private readonly byKey = new Map<string, unknown>();
  private readonly listeners: ChangeListener[] = [];
  private cached: unknown[] | undefined;

  constructor(
    objects: Iterable<unknown>,
    private readonly readFields: (raw: unknown) => unknown = keepReadFields,
  ) {
    for (const object of objects) {
      const raw = readFields(object);
      const { kind, name } = keyOf(raw);
      this.byKey.set(`${kind}|${name}`, raw);
    }
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  objects(): readonly unknown[] {
    this.cached ??= [...this.byKey.values()];
    return this.cached;
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  status(): SourceStatus {
    return { synced: true, lastSyncMs: Date.now() };
  }

  /** The object as it is now; name is "namespace/name" or "name". */
  get(kind: WatchedKind, name: string): unknown {
    return this.byKey.get(`${kind}|${name}`);
  }

  upsert(object: unknown): void {
    const raw = this.readFields(object);
    const { kind, name } = keyOf(raw);
    this.byKey.set(`${kind}|${name}`, raw);
    this.cached = undefined;
    this.emit({ kind, name, object: raw });
  }

  private emit(change: ObjectChange): void {
    for (const listener of this.listeners) listener([change]);
  }
}
