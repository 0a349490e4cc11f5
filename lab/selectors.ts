/* Label selectors: a Service's or Deployment's map, and the -l text of `lab get pods`. */
import { LabError } from './errors.js';
import type { Labels, MatchExpression } from './objects.js';

export function matchesLabels(selector: Labels, labels: Labels): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function matchesExpression(e: MatchExpression, labels: Labels): boolean {
  const value = labels[e.key];
  switch (e.operator) {
    case 'In':
      return value !== undefined && e.values.includes(value);
    case 'NotIn':
      return value === undefined || !e.values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
  }
}

/** "app=sleep,version!=v2,tier,!canary" (equality-based and existence requirements). */
export function parseSelector(text: string): MatchExpression[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const term = part.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(term))) {
      const [, key = '', op, value = ''] = m;
      return { key, operator: op === '!=' ? 'NotIn' : 'In', values: [value] };
    }
    if ((m = /^!([\w./-]+)$/.exec(term))) return { key: m[1] ?? '', operator: 'DoesNotExist', values: [] };
    if (/^[\w./-]+$/.test(term)) return { key: term, operator: 'Exists', values: [] };
    throw new LabError('usage', `cannot read label selector ${JSON.stringify(text)} at ${JSON.stringify(term)}`);
  });
}
