/*
 * Node names -> the small numeric ids backends carry in the maps (0 = unknown node). Ids are
 * never reused within a process, and on start they are adopted from what is already pinned, so
 * an agent restart does not rewrite every backend just to renumber its node.
 */
import type { PlannedService } from '../planner/index.js';

const MAX_ID = 0xffffffff;

/** The node id a backend is programmed with, by its address and port (0 or undefined: none). */
export type ProgrammedNodeId = (address: string, port: number) => number | undefined;

export class NodeIds {
  private readonly byName = new Map<string, number>();
  private readonly names = new Map<number, string>();
  private next = 1;

  /** The id of a node, assigning the next free one on first sight; 0 for no node. */
  idOf(name: string | null | undefined): number {
    if (!name) return 0;
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    while (this.names.has(this.next)) this.next = this.next >= MAX_ID ? 1 : this.next + 1;
    const id = this.next;
    this.next = id >= MAX_ID ? 1 : id + 1;
    this.set(name, id);
    return id;
  }

  nameOf(id: number): string | undefined {
    return this.names.get(id);
  }

  get size(): number {
    return this.byName.size;
  }

  /**
   * Takes over the ids a previous agent wrote for one planned Service: a backend the plan puts
   * on node N that is programmed with id K makes N -> K, unless either side is already taken.
   */
  adoptFrom(service: PlannedService, programmed: ProgrammedNodeId): number {
    let adopted = 0;
    for (const entry of service.entries) {
      for (const tier of entry.tiers) {
        for (const e of tier.endpoints) {
          if (!e.node || this.byName.has(e.node)) continue;
          const id = programmed(e.address, e.port);
          if (!id || this.names.has(id)) continue;
          this.set(e.node, id);
          adopted++;
        }
      }
    }
    return adopted;
  }

  /** Forgets nodes whose ids nothing carries any more, so the table does not grow with node churn. */
  retainIds(live: ReadonlySet<number>): void {
    for (const [name, id] of this.byName) {
      if (live.has(id)) continue;
      this.byName.delete(name);
      this.names.delete(id);
    }
  }

  private set(name: string, id: number): void {
    this.byName.set(name, id);
    this.names.set(id, name);
  }
}
