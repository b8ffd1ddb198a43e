/**
 * A small, strict-enough XML reader for the SOAP requests the camera simulator answers. It
 * resolves namespaces (XML Namespaces 1.0 §5) so that services are told apart by namespace URI,
 * not by whatever prefix a client picked, and it refuses what a SOAP message never needs:
 * a DOCTYPE (so no entity expansion, SOAP 1.2 Part 1 §5 forbids it anyway), unknown entities,
 * unclosed or mismatched tags, and documents nested deeper than {@link MAX_DEPTH}.
 *
 * Values are only read, never re-serialised; responses are templated strings (see soap.ts).
 */

/** One element: local name, resolved namespace, attributes by local name (no xmlns ones). */
export interface XmlElement {
  readonly name: string;
  readonly prefix: string | undefined;
  readonly ns: string | undefined;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Concatenated character data directly inside this element (entities decoded), untrimmed. */
  readonly text: string;
  /** Prefix → namespace URI in scope at this element (QName values such as `dn:NetworkVideoTransmitter`). */
  readonly scope: ReadonlyMap<string, string>;
}

export type XmlParse = { kind: 'ok'; value: XmlElement } | { kind: 'error'; error: string };

export const MAX_DEPTH = 64;

const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?$/;
const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

interface Building {
  qname: string;
  name: string;
  prefix: string | undefined;
  rawAttrs: [string, string][];
  scope: Map<string, string>;
  children: XmlElement[];
  text: string;
}

/** Decodes the five predefined entities and character references; undefined when one is unknown. */
export function decodeEntities(s: string): string | undefined {
  let bad = false;
  const out = s.replace(/&([^;&\s]{1,10});/g, (_m, ent: string) => {
    if (ent.startsWith('#x') || ent.startsWith('#X')) {
      const cp = Number.parseInt(ent.slice(2), 16);
      if (!Number.isFinite(cp) || cp > 0x10ffff) bad = true;
      return bad ? '' : String.fromCodePoint(cp);
    }
    if (ent.startsWith('#')) {
      const cp = Number.parseInt(ent.slice(1), 10);
      if (!Number.isFinite(cp) || cp > 0x10ffff) bad = true;
      return bad ? '' : String.fromCodePoint(cp);
    }
    const v = ENTITIES[ent];
    if (v === undefined) bad = true;
    return v ?? '';
  });
  if (bad || /&(?![^;&\s]{1,10};)/.test(s)) return undefined;
  return out;
}

/** Escapes text or an attribute value for a templated response. */
export function escapeXml(v: string | number | boolean): string {
  return String(v).replace(/[<>&"']/g, (c) => `&${c === '<' ? 'lt' : c === '>' ? 'gt' : c === '&' ? 'amp' : c === '"' ? 'quot' : 'apos'};`);
}

function parseAttrs(src: string): [string, string][] | string {
  const out: [string, string][] = [];
  const re = /\s*([^\s=]+)\s*=\s*("([^"]*)"|'([^']*)')/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (m === null) return `bad attribute near "${src.slice(i, i + 20)}"`;
    const name = m[1]!;
    if (!NAME.test(name)) return `bad attribute name "${name}"`;
    const raw = m[3] ?? m[4] ?? '';
    if (raw.includes('<')) return `"<" in attribute ${name}`;
    const value = decodeEntities(raw);
    if (value === undefined) return `unknown entity in attribute ${name}`;
    if (out.some(([n]) => n === name)) return `duplicate attribute ${name}`;
    out.push([name, value]);
    i = re.lastIndex;
  }
  return out;
}

function finish(b: Building): XmlElement | string {
  const ns = b.prefix === undefined ? b.scope.get('') : b.scope.get(b.prefix);
  if (b.prefix !== undefined && ns === undefined) return `undeclared prefix "${b.prefix}"`;
  const attrs: Record<string, string> = {};
  for (const [n, v] of b.rawAttrs) {
    if (n === 'xmlns' || n.startsWith('xmlns:')) continue;
    const colon = n.indexOf(':');
    attrs[colon < 0 ? n : n.slice(colon + 1)] = v;
  }
  return { name: b.name, prefix: b.prefix, ns: ns === '' ? undefined : ns, attrs, children: b.children, text: b.text, scope: b.scope };
}

/** Parses one XML document into its root element. Never throws. */
export function parseXml(src: string): XmlParse {
  const err = (error: string): XmlParse => ({ kind: 'error', error });
  const stack: Building[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  if (src.charCodeAt(0) === 0xfeff) i = 1;
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const textEnd = lt < 0 ? src.length : lt;
    if (textEnd > i) {
      const raw = src.slice(i, textEnd);
      const top = stack[stack.length - 1];
      if (top === undefined) {
        if (raw.trim() !== '') return err('text outside the root element');
      } else {
        const t = decodeEntities(raw);
        if (t === undefined) return err('unknown or malformed entity');
        top.text += t;
      }
    }
    if (lt < 0) break;
    if (src.startsWith('<!--', lt)) {
      const end = src.indexOf('-->', lt + 4);
      if (end < 0) return err('unterminated comment');
      i = end + 3;
    } else if (src.startsWith('<![CDATA[', lt)) {
      const end = src.indexOf(']]>', lt + 9);
      const top = stack[stack.length - 1];
      if (end < 0 || top === undefined) return err('bad CDATA section');
      top.text += src.slice(lt + 9, end);
      i = end + 3;
    } else if (src.startsWith('<!', lt)) {
      return err('DOCTYPE and declarations are not accepted');
    } else if (src.startsWith('<?', lt)) {
      const end = src.indexOf('?>', lt + 2);
      if (end < 0) return err('unterminated processing instruction');
      i = end + 2;
    } else if (src.startsWith('</', lt)) {
      const end = src.indexOf('>', lt);
      if (end < 0) return err('unterminated end tag');
      const qname = src.slice(lt + 2, end).trim();
      const top = stack.pop();
      if (top === undefined || top.qname !== qname) return err(`unexpected </${qname}>`);
      const el = finish(top);
      if (typeof el === 'string') return err(el);
      const parent = stack[stack.length - 1];
      if (parent === undefined) root = el;
      else parent.children.push(el);
      i = end + 1;
    } else {
      // Start or empty tag; attribute values may contain '>' so scan quotes.
      let j = lt + 1;
      let quote: string | undefined;
      while (j < src.length) {
        const c = src[j]!;
        if (quote !== undefined) {
          if (c === quote) quote = undefined;
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '>') break;
        j++;
      }
      if (j >= src.length) return err('unterminated start tag');
      let inner = src.slice(lt + 1, j);
      const selfClosing = inner.endsWith('/');
      if (selfClosing) inner = inner.slice(0, -1);
      const m = /^([^\s/>]+)([\s\S]*)$/.exec(inner);
      if (m === null || !NAME.test(m[1]!)) return err(`bad tag <${inner.slice(0, 20)}`);
      if (root !== undefined) return err('more than one root element');
      if (stack.length >= MAX_DEPTH) return err(`nested deeper than ${MAX_DEPTH}`);
      const qname = m[1]!;
      const attrs = parseAttrs(m[2]!);
      if (typeof attrs === 'string') return err(attrs);
      const parentScope = stack[stack.length - 1]?.scope ?? new Map<string, string>([['xml', 'http://www.w3.org/XML/1998/namespace']]);
      let scope = parentScope;
      for (const [n, v] of attrs) {
        if (n === 'xmlns' || n.startsWith('xmlns:')) {
          if (scope === parentScope) scope = new Map(parentScope);
          scope.set(n === 'xmlns' ? '' : n.slice(6), v);
        }
      }
      const colon = qname.indexOf(':');
      const b: Building = {
        qname,
        name: colon < 0 ? qname : qname.slice(colon + 1),
        prefix: colon < 0 ? undefined : qname.slice(0, colon),
        rawAttrs: attrs,
        scope,
        children: [],
        text: '',
      };
      if (selfClosing) {
        const el = finish(b);
        if (typeof el === 'string') return err(el);
        const parent = stack[stack.length - 1];
        if (parent === undefined) root = el;
        else parent.children.push(el);
      } else stack.push(b);
      i = j + 1;
    }
  }
  if (stack.length > 0) return err(`unclosed <${stack[stack.length - 1]!.qname}>`);
  if (root === undefined) return err('no root element');
  return { kind: 'ok', value: root };
}

/** First child with this local name (any namespace). */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

/** Follows a path of local names from `el`. */
export function path(el: XmlElement | undefined, ...names: string[]): XmlElement | undefined {
  let cur = el;
  for (const n of names) cur = child(cur, n);
  return cur;
}

/** Trimmed text of the child at `names` (undefined when missing). */
export function textAt(el: XmlElement | undefined, ...names: string[]): string | undefined {
  return path(el, ...names)?.text.trim();
}

/** Resolves a QName value (`dn:NetworkVideoTransmitter`) against the element's scope. */
export function resolveQName(el: XmlElement, qname: string): { ns: string | undefined; name: string } {
  const colon = qname.indexOf(':');
  if (colon < 0) return { ns: el.scope.get(''), name: qname };
  return { ns: el.scope.get(qname.slice(0, colon)), name: qname.slice(colon + 1) };
}
