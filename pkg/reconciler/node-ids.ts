/*
 * Node names -> the small numeric ids backends carry in the maps (0 = unknown node). Ids are
 * never reused within a process, and on start they are adopted from what is already pinned, so
 * an agent restart does not rewrite every backend just to renumber its node.
 */
import type { ProgrammedService } from '../datapath/types.js';
import type { Plan, PlannedService } from '../planner/index.js';
import { backendKey } from './translate-keys.js';

const MAX_ID = 0xffffffff;

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
   * Takes over the ids a previous agent wrote: a backend the plan puts on node N that is
   * programmed with id K makes N -> K, unless either side is already taken.
   */
  adopt(plan: Plan, programmed: readonly ProgrammedService[]): number {
    const programmedIds = NodeIds.programmedIds(programmed);
    return plan.services.reduce((n, service) => n + this.adoptFrom(service, programmedIds), 0);
  }

  /** Node id by backendKey, as a previous agent programmed them; input to adoptFrom(). */
  static programmedIds(programmed: readonly ProgrammedService[]): Map<string, number> {
    const ids = new Map<string, number>();
    for (const service of programmed) {
      for (const tier of service.tiers) for (const b of tier) if (b.nodeId !== 0) ids.set(backendKey(b.address, b.port), b.nodeId);
    }
    return ids;
  }

  /** adopt() for one planned Service, so a caller need not hold every plan at once. */
  adoptFrom(service: PlannedService, programmedIds: ReadonlyMap<string, number>): number {
    let adopted = 0;
    for (const entry of service.entries) {
      for (const tier of entry.tiers) {
        for (const e of tier.endpoints) {
          if (!e.node || this.byName.has(e.node)) continue;
          const id = programmedIds.get(backendKey(e.address, e.port));
          if (id === undefined || this.names.has(id)) continue;
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
