/*
 * The little of XML a JUnit report uses: elements, attributes, text, CDATA, comments, the XML
 * declaration and the five named entities plus numeric ones (Go's encoder writes newlines in
 * text as &#xA;). No DTDs, namespaces or processing beyond that: the reports come from one
 * writer, Ginkgo's, and anything else is refused with the offset where it went wrong.
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text and CDATA, children's text excluded, entities decoded. */
  readonly text: string;
}

export class XmlParseError extends Error {
  constructor(
    readonly offset: number,
    what: string,
  ) {
    super(`XML at offset ${offset}: ${what}`);
    this.name = 'XmlParseError';
  }
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(raw: string, offset: number): string {
  return raw.replace(/&([^;&\s]*);/g, (whole, body: string) => {
    const named = NAMED_ENTITIES[body];
    if (named !== undefined) return named;
    const numeric = /^#x([0-9a-f]+)$/i.exec(body) ?? /^#([0-9]+)$/.exec(body);
    if (numeric?.[1]) return String.fromCodePoint(Number.parseInt(numeric[1], body.startsWith('#x') || body.startsWith('#X') ? 16 : 10));
    throw new XmlParseError(offset, `unknown entity ${whole}`);
  });
}

interface OpenElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = '[A-Za-z_][-A-Za-z0-9_.:]*';
const START_TAG = new RegExp(`^<(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"]*"|'[^']*'))*)\\s*(/?)>`);
const ATTRIBUTE = new RegExp(`(${NAME})\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'g');
const END_TAG = new RegExp(`^</(${NAME})\\s*>`);

function skipUntil(xml: string, from: number, terminator: string, what: string): number {
  const end = xml.indexOf(terminator, from);
  if (end < 0) throw new XmlParseError(from, `unterminated ${what}`);
  return end + terminator.length;
}

/** The document's root element. */
export function parseXml(xml: string): XmlElement {
  const stack: OpenElement[] = [];
  let root: XmlElement | undefined;
  let at = 0;
  while (at < xml.length) {
    const lt = xml.indexOf('<', at);
    const textEnd = lt < 0 ? xml.length : lt;
    if (textEnd > at) {
      const text = xml.slice(at, textEnd);
      const current = stack[stack.length - 1];
      if (current) current.text += decodeEntities(text, at);
      else if (text.trim() !== '') throw new XmlParseError(at, 'text outside the root element');
    }
    if (lt < 0) break;
    at = lt;
    const rest = xml.slice(at, at + 9);
    if (rest.startsWith('<?')) {
      at = skipUntil(xml, at, '?>', 'declaration');
    } else if (rest.startsWith('<!--')) {
      at = skipUntil(xml, at, '-->', 'comment');
    } else if (rest.startsWith('<![CDATA[')) {
      const end = skipUntil(xml, at, ']]>', 'CDATA section');
      const current = stack[stack.length - 1];
      if (!current) throw new XmlParseError(at, 'CDATA outside the root element');
      current.text += xml.slice(at + 9, end - 3);
      at = end;
    } else if (rest.startsWith('</')) {
      const match = END_TAG.exec(xml.slice(at, at + 256));
      const open = stack.pop();
      if (!match || !open || match[1] !== open.name) {
        throw new XmlParseError(at, `unexpected end tag${open ? ` (open: <${open.name}>)` : ''}`);
      }
      const element: XmlElement = open;
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(element);
      else root = element;
      at += match[0].length;
    } else {
      const tagEnd = skipUntil(xml, at, '>', 'tag');
      const match = START_TAG.exec(xml.slice(at, tagEnd));
      if (!match?.[1]) throw new XmlParseError(at, 'malformed tag');
      if (root) throw new XmlParseError(at, 'a second root element');
      const attributes: Record<string, string> = {};
      for (const a of (match[2] ?? '').matchAll(ATTRIBUTE)) {
        attributes[a[1] ?? ''] = decodeEntities(a[2] ?? a[3] ?? '', at);
      }
      const element: OpenElement = { name: match[1], attributes, children: [], text: '' };
      if (match[3] === '/') {
        const parent = stack[stack.length - 1];
        if (parent) parent.children.push(element);
        else root = element;
      } else {
        stack.push(element);
      }
      at = tagEnd;
    }
  }
  const unclosed = stack[stack.length - 1];
  if (unclosed) throw new XmlParseError(xml.length, `<${unclosed.name}> is never closed`);
  if (!root) throw new XmlParseError(0, 'no root element');
  return root;
}

/** Every element named `name` at any depth below `element`, in document order. */
export function descendants(element: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  for (const child of element.children) {
    if (child.name === name) found.push(child);
    found.push(...descendants(child, name));
  }
  return found;
}
