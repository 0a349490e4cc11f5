/*
 * The small part of kubectl's -o jsonpath that scripts use to pick names out of a list:
 * literal text with {.field.field[N].field} or [*] expressions; several results join with a space.
 */

function evaluate(value: unknown, path: string): unknown[] {
  let current: unknown[] = [value];
  const steps = path.match(/\.[^.[\]]+|\[(\*|\d+)\]/g) ?? [];
  if (steps.join('') !== path.replace(/^\.$/, '')) throw new Error(`unsupported jsonpath expression {${path}}`);
  for (const step of steps) {
    current = current.flatMap((item): unknown[] => {
      if (step === '[*]') return Array.isArray(item) ? item : [];
      if (step.startsWith('[')) {
        const element: unknown = Array.isArray(item) ? item[Number(step.slice(1, -1))] : undefined;
        return element === undefined ? [] : [element];
      }
      const field = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[step.slice(1)] : undefined;
      return field === undefined ? [] : [field];
    });
  }
  return current;
}

export function jsonpath(template: string, value: unknown): string {
  return template.replace(/\{([^}]*)\}/g, (_m, expression: string) =>
    evaluate(value, expression.trim())
      .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
      .join(' '),
  );
}
