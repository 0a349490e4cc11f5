/* Values as Grafana prints them for the units the nearby dashboard uses. */

/** Up to `digits` decimals, trailing zeros dropped, unless `fixed` asks for exactly that many. */
function number(v: number, digits: number, fixed?: number): string {
  if (fixed !== undefined) return v.toFixed(fixed);
  const text = v.toFixed(digits);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** Decimals that keep about three significant digits. */
const autoDigits = (v: number): number => {
  const a = Math.abs(v);
  return a >= 100 || a === 0 ? 0 : a >= 10 ? 1 : 2;
};

function scaled(v: number, steps: ReadonlyArray<readonly [number, string]>, decimals?: number): string {
  for (const [factor, suffix] of steps) {
    if (Math.abs(v) >= factor || factor === steps.at(-1)![0]) {
      const s = v / factor;
      return `${number(s, autoDigits(s), decimals)}${suffix}`;
    }
  }
  return String(v);
}

const SHORT: ReadonlyArray<readonly [number, string]> = [
  [1e9, ' Bil'],
  [1e6, ' Mil'],
  [1e3, ' K'],
  [1, ''],
];
const BYTES: ReadonlyArray<readonly [number, string]> = [
  [1024 ** 3, ' GiB'],
  [1024 ** 2, ' MiB'],
  [1024, ' KiB'],
  [1, ' B'],
];
const SECONDS: ReadonlyArray<readonly [number, string]> = [
  [3600, ' hour'],
  [60, ' min'],
  [1, ' s'],
  [1e-3, ' ms'],
  [1e-6, ' µs'],
];

export function formatValue(v: number | null | undefined, unit: string | undefined, decimals?: number): string {
  if (v === null || v === undefined || Number.isNaN(v)) return 'No data';
  if (v === 0 && unit !== 'percentunit') return unit === 's' ? '0 s' : '0';
  switch (unit) {
    case 'percentunit':
      return `${number(v * 100, autoDigits(v * 100) > 1 ? 1 : autoDigits(v * 100), decimals)}%`;
    case 'percent':
      return `${number(v, 1, decimals)}%`;
    case 's':
      return scaled(v, SECONDS, decimals);
    case 'bytes':
      return scaled(v, BYTES, decimals);
    case 'reqps':
      return `${scaled(v, SHORT, decimals)} req/s`;
    case 'wps':
      return `${scaled(v, SHORT, decimals)} wps`;
    case 'ops':
      return `${scaled(v, SHORT, decimals)} ops/s`;
    default:
      return scaled(v, SHORT, decimals);
  }
}

/** Round numbers from lo to hi for an axis, about `count` of them. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** An axis maximum a little above the data, on a round number. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * power).find((m) => m >= max * 1.05) ?? max * 1.1;
}

/** Ticks on round numbers of the unit's display scale (MiB for bytes, so 32 MiB rather than 33.5 MB). */
export function axisTicks(lo: number, hi: number, count: number, unit: string | undefined): number[] {
  if (unit !== 'bytes') return niceTicks(lo, hi, count);
  const factor = 1024 ** Math.max(0, Math.floor(Math.log(Math.max(hi, 1)) / Math.log(1024)));
  return niceTicks(lo / factor, hi / factor, count).map((t) => t * factor);
}

/** Powers of ten from lo to hi, for a log axis. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.round(Math.log10(lo)); e <= Math.round(Math.log10(hi)); e++) ticks.push(10 ** e);
  return ticks;
}
