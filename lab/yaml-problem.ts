/*
 * A YAML parse error as one line a user can act on: where, what, and the offending line itself.
 * The parser's own message ends with the line and a caret on lines of their own, which a
 * one-line message cut off at the first newline would lose.
 */
import type { YAMLError } from 'yaml';

const SHOWN_LINE_MAX = 120;

export function yamlProblem(error: YAMLError, text: string): string {
  const what = error.message.split('\n', 1)[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const at = error.linePos?.[0];
  if (!at) return `invalid YAML: ${what}`;
  const line = text.split(/\r?\n/)[at.line - 1] ?? '';
  const shown = line.length > SHOWN_LINE_MAX ? `${line.slice(0, SHOWN_LINE_MAX)}...` : line;
  return `invalid YAML at line ${at.line}, column ${at.col}: ${what}: ${JSON.stringify(shown)}`;
}
