/* The parts of a Grafana dashboard JSON (schemaVersion 39) that the renderer and the tests read. */
import { readFileSync } from 'node:fs';

export interface DataSourceRef {
  readonly type?: string;
  readonly uid?: string;
}

export interface GridPos {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly legendFormat?: string;
  readonly datasource?: DataSourceRef;
  readonly instant?: boolean;
  readonly range?: boolean;
}

export interface ThresholdStep {
  readonly color: string;
  readonly value: number | null;
}

export interface FieldDefaults {
  readonly unit?: string;
  readonly min?: number;
  readonly max?: number;
  readonly decimals?: number;
  readonly thresholds?: { readonly mode: string; readonly steps: readonly ThresholdStep[] };
  readonly custom?: {
    readonly drawStyle?: 'line' | 'bars' | 'points';
    readonly fillOpacity?: number;
    readonly stacking?: { readonly mode: 'none' | 'normal' | 'percent' };
    readonly thresholdsStyle?: { readonly mode: string };
    readonly scaleDistribution?: { readonly type: 'linear' | 'log'; readonly log?: number };
  };
}

export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly description?: string;
  readonly gridPos: GridPos;
  readonly datasource?: DataSourceRef;
  readonly targets?: readonly Target[];
  readonly fieldConfig?: { readonly defaults: FieldDefaults; readonly overrides: readonly unknown[] };
  readonly options?: Record<string, unknown>;
  readonly panels?: readonly Panel[];
  readonly collapsed?: boolean;
}

export interface TemplateVariable {
  readonly name: string;
  readonly label?: string;
  readonly type: string;
  readonly query?: unknown;
  readonly definition?: string;
  readonly datasource?: DataSourceRef;
  readonly includeAll?: boolean;
  readonly multi?: boolean;
  readonly allValue?: string;
}

export interface Dashboard {
  readonly title: string;
  readonly uid: string;
  readonly schemaVersion: number;
  readonly version?: number;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly time?: { readonly from: string; readonly to: string };
  readonly refresh?: string;
  readonly templating: { readonly list: readonly TemplateVariable[] };
  readonly panels: readonly Panel[];
}

export function readDashboard(path: string): Dashboard {
  return JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
}

/** Every panel, including those nested in collapsed rows. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}
