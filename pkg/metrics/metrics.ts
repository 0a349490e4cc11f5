/*
 * The agent's Prometheus metrics, on a registry of its own so that tests and a library user
 * never share prom-client's global one. Values arrive as plain data (a reconcile result, source
 * stats, datapath counters), so this file knows nothing about how they are produced.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { MODE_NAMES } from '../contract/index.js';
import { countCodes, type ReconcileResult } from '../reconciler/index.js';

/** Watch health as a source may report it; every member is optional. */
export interface SourceStats {
  readonly watchRestarts?: number;
  readonly relists?: number;
}

/** Passive ejection of one datapath service (docs/outlier-detection.md), already named. */
export interface EjectionCounts {
  /** "ns/name", or "" when the service id is unknown to the agent. */
  readonly service: string;
  /** Ejections the kernel made through the service, ever. */
  readonly ejections: number;
  /** Its endpoints ejected now. */
  readonly ejectedNow: number;
}

/** Connect counters of one datapath service and tier, already named. */
export interface ConnectCounters {
  /** "ns/name", or "" when the service id is unknown to the agent. */
  readonly service: string;
  readonly tier: number;
  readonly attempts: bigint | number;
  readonly failed: bigint | number;
  readonly refused: bigint | number;
}

/** Fail-open on this node as the control row the attached programs read says, at scrape time. */
export interface FailOpenReading {
  /** --fail-open-after as the agent set it in the row; 0 when off. */
  readonly afterMs: number;
  /** Age of the heartbeat; undefined before the first one. */
  readonly heartbeatAgeMs: number | undefined;
  /** The connect path is not rewriting Services nearby does not claim exclusively, now. */
  readonly inEffect: boolean;
}

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly servicesProgrammed: Gauge<'mode'>;
  private readonly endpointsProgrammed: Gauge<'mode' | 'tier'>;
  private readonly reconcileDuration: Histogram<'outcome' | 'kind'>;
  private readonly mapWrites: Counter<'map'>;
  private readonly mapErrors: Counter<'map'>;
  private readonly driftRepaired: Counter<'map'>;
  private readonly serviceFailures: Gauge<'reason'>;
  private readonly rejected: Gauge<'reason'>;
  private readonly warnings: Gauge<'reason'>;
  private readonly lastSync: Gauge;
  private readonly watchRestarts: Counter;
  private readonly relists: Counter;
  private readonly seenSourceStats = { watchRestarts: 0, relists: 0 };
  private connects: () => readonly ConnectCounters[] = () => [];
  private ejections: () => readonly EjectionCounts[] = () => [];
  private failOpen: () => FailOpenReading | undefined = () => undefined;

  /**
   * `maps`: the datapath maps a write can fail on. Their error counters start at 0, because
   * Prometheus' increase() cannot see a counter series' first sample: a node whose first failure
   * created the series would never trip the map-write alert (docs/metrics.md).
   */
  constructor(options: { defaultMetrics?: boolean; maps?: readonly string[] } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'nearby_' });
    this.servicesProgrammed = new Gauge({
      name: 'nearby_services_programmed',
      help: 'Datapath services (VIP, port, protocol) programmed, by mode',
      labelNames: ['mode'],
      registers,
    });
    this.endpointsProgrammed = new Gauge({
      name: 'nearby_endpoints_programmed',
      help: 'Endpoint slots programmed, by mode and tier (0 = closest)',
      labelNames: ['mode', 'tier'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'nearby_reconcile_duration_seconds',
      help: 'Time of one reconcile pass, from objects to the last map write; kind: full (every object) or incremental (what changed)',
      labelNames: ['outcome', 'kind'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.mapWrites = new Counter({
      name: 'nearby_map_writes_total',
      help: 'Map entries written or deleted by the reconciler, by map',
      labelNames: ['map'],
      registers,
    });
    this.mapErrors = new Counter({
      name: 'nearby_map_write_errors_total',
      help: 'Service writes refused, by the map that refused ("none" when no map was involved)',
      labelNames: ['map'],
      registers,
    });
    for (const map of [...(options.maps ?? []), 'none']) this.mapErrors.inc({ map }, 0);
    this.driftRepaired = new Counter({
      name: 'nearby_drift_repaired_total',
      help: 'Map entries a resync found changed behind the agent (deleted or edited by hand) and put right, by map',
      labelNames: ['map'],
      registers,
    });
    this.serviceFailures = new Gauge({
      name: 'nearby_services_failed',
      help: 'Datapath services not programmed as planned in the last pass, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.rejected = new Gauge({
      name: 'nearby_objects_rejected',
      help: 'Cluster objects skipped because they could not be read, by reason (last pass)',
      labelNames: ['reason'],
      registers,
    });
    this.warnings = new Gauge({
      name: 'nearby_planner_warnings',
      help: 'Planner warnings (unknown policies, unmatched ports, unknown nodes), by reason (last pass)',
      labelNames: ['reason'],
      registers,
    });
    this.lastSync = new Gauge({
      name: 'nearby_last_sync_timestamp_seconds',
      help: 'Unix time of the last reconcile pass that ran to the end',
      registers,
    });
    this.watchRestarts = new Counter({
      name: 'nearby_watch_restarts_total',
      help: 'Watches the source had to restart (dropped connections, timeouts)',
      registers,
    });
    this.relists = new Counter({
      name: 'nearby_watch_relists_total',
      help: 'Full relists the source did (410 Gone, first sync)',
      registers,
    });
    const read = (): readonly ConnectCounters[] => this.readConnects();
    new Counter({
      name: 'nearby_connects_total',
      help: 'Connects the datapath balanced, by service and tier (0 = closest)',
      labelNames: ['service', 'tier'],
      registers,
      collect() {
        // Cumulative values come from the kernel; the counter mirrors them at scrape time.
        this.reset();
        for (const c of read()) this.inc({ service: c.service, tier: String(c.tier) }, Number(c.attempts));
      },
    });
    new Counter({
      name: 'nearby_connect_failures_total',
      help: 'Connects that failed or were refused (no endpoint), by service and tier',
      labelNames: ['service', 'tier'],
      registers,
      collect() {
        this.reset();
        for (const c of read()) this.inc({ service: c.service, tier: String(c.tier) }, Number(c.failed) + Number(c.refused));
      },
    });
    const readEjections = (): readonly EjectionCounts[] => this.ejections();
    new Counter({
      name: 'nearby_ejections_total',
      help: 'Endpoints the kernel ejected for failed TCP connects (outlier detection), by service',
      labelNames: ['service'],
      registers,
      collect() {
        this.reset();
        for (const e of readEjections()) this.inc({ service: e.service }, e.ejections);
      },
    });
    new Gauge({
      name: 'nearby_endpoints_ejected',
      help: 'Endpoints ejected now by outlier detection, by service',
      labelNames: ['service'],
      registers,
      collect() {
        this.reset();
        for (const e of readEjections()) this.inc({ service: e.service }, e.ejectedNow);
      },
    });
    new Gauge({
      name: 'nearby_connects_tier0_ratio',
      help: "Share of a service's connects that stayed in tier 0 (the closest endpoints)",
      labelNames: ['service'],
      registers,
      collect() {
        this.reset();
        const totals = new Map<string, { all: number; tier0: number }>();
        for (const c of read()) {
          const t = totals.get(c.service) ?? { all: 0, tier0: 0 };
          t.all += Number(c.attempts);
          if (c.tier === 0) t.tier0 += Number(c.attempts);
          totals.set(c.service, t);
        }
        for (const [service, t] of totals) if (t.all > 0) this.set({ service }, t.tier0 / t.all);
      },
    });
    this.registerFailOpen(registers);
  }

  /** docs/concepts.md, "Fail-open when the agent is gone"; each is 0 until the datapath is open. */
  private registerFailOpen(registers: Registry[]): void {
    const read = (): FailOpenReading | undefined => this.readFailOpen();
    new Gauge({
      name: 'nearby_fail_open_after_seconds',
      help: 'How long the heartbeat may go unrenewed before the datapath stops rewriting Services another proxy serves; 0: fail-open off',
      registers,
      collect() {
        this.reset();
        const f = read();
        if (f) this.set(f.afterMs / 1000);
      },
    });
    new Gauge({
      name: 'nearby_heartbeat_age_seconds',
      help: "Age of the agent's heartbeat in the pinned control map while fail-open is on; 0 while it is off (the heartbeat is not renewed then)",
      registers,
      collect() {
        this.reset();
        const f = read();
        if (f && f.afterMs > 0 && f.heartbeatAgeMs !== undefined) this.set(f.heartbeatAgeMs / 1000);
      },
    });
    new Gauge({
      name: 'nearby_failing_open',
      help: '1 while the datapath fails open (heartbeat older than the bound): connects to Services nearby does not claim are not rewritten',
      registers,
      collect() {
        this.reset();
        const f = read();
        if (f) this.set(f.inEffect ? 1 : 0);
      },
    });
  }

  /** Where the fail-open state comes from; read on every scrape. */
  setFailOpen(reader: () => FailOpenReading | undefined): void {
    this.failOpen = reader;
  }

  /** Where ejection counts come from; read on every scrape. */
  setEjectionCounts(reader: () => readonly EjectionCounts[]): void {
    this.ejections = reader;
  }

  /** Where connect counters come from; read on every scrape. */
  setConnectCounters(reader: () => readonly ConnectCounters[]): void {
    this.connects = reader;
  }

  recordReconcile(result: ReconcileResult): void {
    if (!result.completed) {
      this.reconcileDuration.observe({ outcome: 'incomplete', kind: 'none' }, result.durationMs / 1000);
      return;
    }
    this.reconcileDuration.observe(
      { outcome: result.failures.length > 0 ? 'partial' : 'ok', kind: result.full ? 'full' : 'incremental' },
      result.durationMs / 1000,
    );
    this.lastSync.set(result.finishedAtMs / 1000);
    this.servicesProgrammed.reset();
    this.endpointsProgrammed.reset();
    for (const mode of MODE_NAMES) {
      this.servicesProgrammed.set({ mode }, result.servicesByMode[mode] ?? 0);
      (result.endpointsByModeTier[mode] ?? []).forEach((n, tier) => this.endpointsProgrammed.set({ mode, tier: String(tier) }, n));
    }
    for (const [map, n] of Object.entries(result.mapWrites)) this.mapWrites.inc({ map }, n);
    for (const [map, n] of Object.entries(result.mapErrors)) this.mapErrors.inc({ map }, n);
    for (const [map, n] of Object.entries(result.driftRepaired ?? {})) this.driftRepaired.inc({ map }, n);
    setAll(this.serviceFailures, countCodes(result.failures));
    setAll(this.rejected, result.rejected);
    setAll(this.warnings, result.warnings);
  }

  recordSourceStats(stats: SourceStats): void {
    this.advance(this.watchRestarts, 'watchRestarts', stats.watchRestarts);
    this.advance(this.relists, 'relists', stats.relists);
  }

  private advance(counter: Counter, field: keyof AgentMetrics['seenSourceStats'], value: number | undefined): void {
    if (value === undefined) return;
    const seen = this.seenSourceStats[field];
    // A source that was replaced starts again from 0; count its new events from there.
    counter.inc(value >= seen ? value - seen : value);
    this.seenSourceStats[field] = value;
  }

  private readFailOpen(): FailOpenReading | undefined {
    try {
      return this.failOpen();
    } catch {
      return undefined; // as for the counters: a scrape does not fail on one unreadable map
    }
  }

  private readConnects(): readonly ConnectCounters[] {
    try {
      return this.connects();
    } catch {
      return []; // a scrape must not fail because the maps could not be read this once
    }
  }
}

function setAll(gauge: Gauge<'reason'>, counts: Readonly<Partial<Record<string, number>>>): void {
  gauge.reset();
  for (const [reason, n] of Object.entries(counts)) if (n !== undefined) gauge.set({ reason }, n);
}
