/*
 * Reads manifests the way `kubectl apply -f` does: a file, every .yaml/.yml/.json file of a
 * directory in name order, or text; multi-document YAML and `kind: List`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { LabError } from './errors.js';
import { yamlProblem } from './yaml-problem.js';

export interface RawDocument {
  /** Where it came from, for messages: "file.yaml#2". */
  readonly origin: string;
  readonly object: Record<string, unknown>;
}

const EXTENSIONS = ['.yaml', '.yml', '.json'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseDocuments(text: string, origin: string): RawDocument[] {
  const out: RawDocument[] = [];
  parseAllDocuments(text).forEach((document, index) => {
    const where = `${origin}#${index + 1}`;
    const [first] = document.errors;
    if (first) throw new LabError('invalid', `${where}: ${yamlProblem(first, text)}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return;
    if (!isRecord(value)) throw new LabError('invalid', `${where}: not an object`);
    if (typeof value['kind'] === 'string' && value['kind'].endsWith('List') && Array.isArray(value['items'])) {
      value['items'].forEach((item: unknown, i: number) => {
        if (!isRecord(item)) throw new LabError('invalid', `${where} item ${i + 1}: not an object`);
        out.push({ origin: `${where} item ${i + 1}`, object: item });
      });
      return;
    }
    out.push({ origin: where, object: value });
  });
  return out;
}

function filesOf(path: string): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    throw new LabError('usage', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!stat.isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => !name.startsWith('.') && EXTENSIONS.some((ext) => name.endsWith(ext)))
    .sort()
    .map((name) => join(path, name));
}

export function readDocuments(paths: readonly string[]): RawDocument[] {
  return paths.flatMap(filesOf).flatMap((file) => parseDocuments(readFileSync(file, 'utf8'), file));
}
