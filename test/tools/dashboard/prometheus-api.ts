/* The two calls of Prometheus' HTTP API the dashboard needs: an instant query and a range query. */

export type Labels = Readonly<Record<string, string>>;

export interface InstantSeries {
  readonly metric: Labels;
  readonly value: readonly [number, string];
}

export interface RangeSeries {
  readonly metric: Labels;
  readonly values: ReadonlyArray<readonly [number, string]>;
}

export class PrometheusQueryError extends Error {
  constructor(
    readonly expr: string,
    reason: string,
  ) {
    super(`Prometheus query ${JSON.stringify(expr)}: ${reason}`);
    this.name = 'PrometheusQueryError';
  }
}

async function get<T>(url: string, path: string, params: Record<string, string>): Promise<T> {
  const response = await fetch(`${url}${path}?${new URLSearchParams(params).toString()}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { status: string; data?: T; error?: string };
  if (body.status !== 'success' || body.data === undefined)
    throw new PrometheusQueryError(params['query'] ?? path, body.error ?? `HTTP ${response.status}`);
  return body.data;
}

export async function instantQuery(url: string, expr: string): Promise<InstantSeries[]> {
  return (await get<{ result: InstantSeries[] }>(url, '/api/v1/query', { query: expr })).result;
}

export async function rangeQuery(url: string, expr: string, startS: number, endS: number, stepS: number): Promise<RangeSeries[]> {
  const params = { query: expr, start: String(startS), end: String(endS), step: String(stepS) };
  return (await get<{ result: RangeSeries[] }>(url, '/api/v1/query_range', params)).result;
}

export interface AlertState {
  readonly labels: Labels;
  readonly state: 'pending' | 'firing' | 'inactive';
  readonly activeAt?: string;
}

export async function alerts(url: string): Promise<AlertState[]> {
  return (await get<{ alerts: AlertState[] }>(url, '/api/v1/alerts', {})).alerts;
}
