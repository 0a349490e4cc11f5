import { parseAllDocuments } from 'yaml';
import { ManifestError } from './errors.js';
import { isWatchedKind } from '../model/index.js';
import { withTypeMeta } from './plain-object.js';

/**
 * Turns the text of one manifest file into the raw objects of the watched kinds, in file order.
 * Accepts what `kubectl apply -f` accepts: multi-document YAML, JSON, and `List` objects
 * (`kind: List`, or `NodeList` and friends as the API server returns them). Other kinds are
 * skipped silently; anything malformed throws a ManifestError for the whole file, so a
 * half-parsed file never replaces good state.
 */
export function parseManifest(file: string, text: string): Array<Record<string, unknown>> {
  const documents = file.endsWith('.json') ? parseJson(file, text) : parseYaml(file, text);
  const objects: Array<Record<string, unknown>> = [];
  documents.forEach((document, index) => collect(file, `document ${index + 1}`, document, objects));
  return objects;
}

function parseJson(file: string, text: string): unknown[] {
  try {
    return [JSON.parse(text)];
  } catch (err) {
    throw new ManifestError(file, `invalid JSON: ${(err as Error).message}`, { cause: err });
  }
}

function parseYaml(file: string, text: string): unknown[] {
  return parseAllDocuments(text).map((document, index) => {
    const [first] = document.errors;
    if (first) {
      // yaml's messages append a multi-line source excerpt; the first line has the position.
      const summary = first.message.split('\n', 1)[0];
      throw new ManifestError(file, `invalid YAML in document ${index + 1}: ${summary}`, { cause: first });
    }
    return document.toJS() as unknown;
  });
}

function collect(file: string, where: string, value: unknown, out: Array<Record<string, unknown>>): void {
  // `---` followed by nothing, or a comment-only document.
  if (value === null || value === undefined) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ManifestError(file, `${where} is not an object`);
  }
  const object = value as Record<string, unknown>;
  const kind = object.kind;
  if (typeof kind === 'string' && kind.endsWith('List') && 'items' in object) {
    collectList(file, where, kind, object.items, out);
    return;
  }
  if (isWatchedKind(kind)) out.push(withTypeMeta(object, kind));
}

function collectList(file: string, where: string, listKind: string, items: unknown, out: Array<Record<string, unknown>>): void {
  if (items === null || items === undefined) return;
  if (!Array.isArray(items)) throw new ManifestError(file, `${where}: ${listKind}.items is not a list`);
  // `NodeList` items come without a kind; `List` items carry their own.
  const itemKind = listKind === 'List' ? undefined : listKind.slice(0, -'List'.length);
  items.forEach((item, index) => {
    const itemWhere = `${where} item ${index + 1}`;
    if (itemKind !== undefined && typeof item === 'object' && item !== null && !Array.isArray(item) && !('kind' in item)) {
      collect(file, itemWhere, { ...item, kind: itemKind }, out);
    } else {
      collect(file, itemWhere, item, out);
    }
  });
}
