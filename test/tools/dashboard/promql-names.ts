/*
 * The names inside a PromQL expression: metric selectors, functions and aggregations, and the
 * label lists of by/without/on/ignoring. Not a parser: enough of a lexer that the dashboard test
 * can hold every query to metrics the agent really exports, and the renderer can tell which
 * sample series a query wants. Strings, label matchers and range selectors are skipped whole,
 * so `{service=~"$service"}` or `[$__rate_interval]` never read as names.
 */

export interface PromqlNames {
  /** Metric names, in order of first use. */
  readonly metrics: readonly string[];
  /** Functions and aggregation operators (sum, rate, histogram_quantile, ...). */
  readonly functions: readonly string[];
  /** Each by/without/on/ignoring/group_* label list, in order. */
  readonly groupings: ReadonlyArray<{ readonly keyword: string; readonly labels: readonly string[] }>;
  /** Each selector: its metric, the labels its matchers name ({tier="0"} -> ["tier"]), and the functions around it, innermost last. */
  readonly selectors: ReadonlyArray<{ readonly metric: string; readonly labels: readonly string[]; readonly within: readonly string[] }>;
}

export class PromqlScanError extends Error {
  constructor(
    readonly expr: string,
    reason: string,
  ) {
    super(`PromQL ${JSON.stringify(expr)}: ${reason}`);
    this.name = 'PromqlScanError';
  }
}

const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const OPERATOR_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'atan2']);

const isNameStart = (c: string): boolean => /[A-Za-z_:]/.test(c);
const isNameChar = (c: string): boolean => /[A-Za-z0-9_:]/.test(c);

/** Index just past the `close` that ends the span opened at `open`; strings inside are stepped over. */
function skipSpan(expr: string, start: number, close: string): number {
  let i = start + 1;
  while (i < expr.length && expr[i] !== close) i = expr[i] === '"' || expr[i] === "'" ? skipString(expr, i) : i + 1;
  if (i >= expr.length) throw new PromqlScanError(expr, `unclosed ${expr[start]} at ${start}`);
  return i + 1;
}

function skipString(expr: string, start: number): number {
  const quote = expr[start];
  let i = start + 1;
  while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' ? 2 : 1;
  if (i >= expr.length) throw new PromqlScanError(expr, `unclosed string at ${start}`);
  return i + 1;
}

function nextNonSpace(expr: string, from: number): number {
  let i = from;
  while (i < expr.length && /\s/.test(expr[i]!)) i++;
  return i;
}

export function promqlNames(expr: string): PromqlNames {
  const metrics: string[] = [];
  const functions: string[] = [];
  const groupings: Array<{ keyword: string; labels: string[] }> = [];
  const selectors: Array<{ metric: string; labels: string[]; within: string[] }> = [];
  // The function each open parenthesis belongs to ('' for plain grouping).
  const open: string[] = [];
  let pending = '';
  let depth = 0;
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '"' || c === "'") i = skipString(expr, i);
    else if (c === '{') i = skipSpan(expr, i, '}');
    else if (c === '[') i = skipSpan(expr, i, ']');
    else if (c === '(') {
      open.push(pending);
      pending = '';
      depth++;
      i++;
    } else if (c === ')') {
      if (--depth < 0) throw new PromqlScanError(expr, `unbalanced ) at ${i}`);
      open.pop();
      i++;
    } else if (/[0-9.]/.test(c)) {
      // A number (0.99, 1e3) or a duration after offset (5m): neither is a name.
      while (i < expr.length && /[0-9.eE]/.test(expr[i]!)) i++;
      while (i < expr.length && /[smhdwy]/.test(expr[i]!)) i++;
    } else if (c === '$') {
      i++;
      while (i < expr.length && isNameChar(expr[i]!)) i++;
    } else if (isNameStart(c)) {
      let end = i + 1;
      while (end < expr.length && isNameChar(expr[end]!)) end++;
      const name = expr.slice(i, end);
      const after = nextNonSpace(expr, end);
      if (LABEL_LIST_KEYWORDS.has(name)) {
        if (expr[after] === '(') {
          const close = skipSpan(expr, after, ')');
          const labels = expr
            .slice(after + 1, close - 1)
            .split(',')
            .map((l) => l.trim())
            .filter(Boolean);
          groupings.push({ keyword: name, labels });
          i = close;
        } else {
          i = end; // group_left without a label list
        }
      } else if (OPERATOR_KEYWORDS.has(name)) {
        i = end;
      } else if (name === 'offset') {
        i = nextNonSpace(expr, end);
      } else if (expr[after] === '(' || /^(by|without)\s*\(/.test(expr.slice(after))) {
        // An aggregation may carry its grouping before its argument: sum by (l) (x).
        if (!functions.includes(name)) functions.push(name);
        pending = name;
        i = end;
      } else {
        if (!metrics.includes(name)) metrics.push(name);
        const selector = { metric: name, labels: [] as string[], within: open.filter(Boolean) };
        if (expr[after] === '{') {
          const close = skipSpan(expr, after, '}');
          selector.labels = matcherLabels(expr.slice(after + 1, close - 1));
          i = close;
        } else {
          i = end;
        }
        selectors.push(selector);
      }
    } else {
      i++;
    }
  }
  if (depth !== 0) throw new PromqlScanError(expr, `${depth} unclosed (`);
  return { metrics, functions, groupings, selectors };
}

/** The label names of a matcher list: `a="x",b=~"y"` -> [a, b]. */
function matcherLabels(body: string): string[] {
  const labels: string[] = [];
  const matcher = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*,?/y;
  let read = 0;
  let m: RegExpExecArray | null;
  while ((m = matcher.exec(body)) !== null) {
    labels.push(m[1]!);
    read = matcher.lastIndex;
  }
  if (body.slice(read).trim() !== '')
    throw new PromqlScanError(body, `cannot read the label matchers from ${JSON.stringify(body.slice(read))}`);
  return labels;
}

/** The series a Prometheus histogram exposes for one base name. */
export const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/** The name under which /metrics declares a series (`# TYPE`): a histogram's base name for its _bucket/_sum/_count. */
export function declaredName(metric: string, histograms: ReadonlySet<string>): string {
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (metric.endsWith(suffix) && histograms.has(metric.slice(0, -suffix.length))) return metric.slice(0, -suffix.length);
  }
  return metric;
}
