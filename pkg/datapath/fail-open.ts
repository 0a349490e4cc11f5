/*
 * The agent's side of fail-open (bpf/nearby.h, control; docs/concepts.md, "Fail-open when the agent is gone"): it
 * renews a heartbeat in the pinned control row, and the connect path stops rewriting services
 * another proxy also serves (every one nearby does not claim exclusively) once the heartbeat is older
 * than the bound. failsOpen() is the kernel's rule, for tests and for explain.
 */
import type { BpfMap } from './bpf-map.js';
import { control, type Control } from './codecs.js';
import { monotonicNs } from './ejections.js';

/** NEARBY_LAYOUT_VERSION in bpf/nearby.h: bumped whenever a pinned map changes shape. */
export const LAYOUT_VERSION = 2;

const ROW = Buffer.alloc(4); // key 0 of the one-row array
const NS_PER_MS = 1_000_000n;

/** The kernel's decision (failing_open in bpf/nearby.bpf.c), for one connect to a known service. */
export function failsOpen(c: Control, nowNs: bigint, claimed: boolean): boolean {
  if (c.failOpenNs === 0n) return false;
  if (nowNs <= c.heartbeatNs || nowNs - c.heartbeatNs <= c.failOpenNs) return false;
  return !claimed;
}

/** What fail-open does on a node now, read from its control row: for the agent's metrics and explain. */
export interface FailOpenStatus {
  /** The bound the agent set (--fail-open-after); 0 when fail-open is off. */
  readonly afterMs: number;
  /** How old the heartbeat is; undefined before the first one. Renewed only while a bound is set. */
  readonly heartbeatAgeMs: number | undefined;
  /** The connect path stops rewriting every service nearby does not claim exclusively, now. */
  readonly inEffect: boolean;
}

export function failOpenStatus(c: Control, nowNs: bigint): FailOpenStatus {
  const age = c.heartbeatNs === 0n ? undefined : nowNs > c.heartbeatNs ? nowNs - c.heartbeatNs : 0n;
  return {
    afterMs: Number(c.failOpenNs / NS_PER_MS),
    heartbeatAgeMs: age === undefined ? undefined : Number(age) / 1e6,
    inEffect: failsOpen(c, nowNs, false),
  };
}

/**
 * How often the heartbeat is renewed for a bound: a few times within it, so that a late timer or
 * a slow pass does not trip it, and at most once a second when the bound is long.
 */
export function heartbeatIntervalMs(failOpenAfterMs: number): number {
  return Math.max(10, Math.min(1000, Math.floor(failOpenAfterMs / 4)));
}

export function readControl(map: BpfMap): Control | undefined {
  const value = map.lookup(ROW);
  return value ? control.decode(value) : undefined;
}

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;

  /** failOpenAfterMs 0 turns fail-open off, and also turns it off in a kernel where it was on. */
  constructor(
    private readonly map: BpfMap,
    private readonly failOpenAfterMs: number,
    private readonly now: () => bigint = monotonicNs,
    /** The version the row says its maps have: the loader's, or the old one while upgrading. */
    private readonly layout: number = LAYOUT_VERSION,
  ) {}

  /** Renews it once, now. The agent does so as soon as the maps are open, before anything else. */
  beat(): void {
    const row: Control = { heartbeatNs: this.now(), failOpenNs: BigInt(this.failOpenAfterMs) * NS_PER_MS, layout: this.layout };
    this.map.update(ROW, control.encode(row));
  }

  start(): void {
    this.beat();
    if (this.failOpenAfterMs === 0 || this.timer) return;
    this.timer = setInterval(() => this.beat(), heartbeatIntervalMs(this.failOpenAfterMs));
    this.timer.unref();
  }

  /** Stops renewing; the last heartbeat stays, so the bound counts from it. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
