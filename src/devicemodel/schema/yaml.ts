/**
 * YAML text → plain data plus a locator that maps a YAML path back to a line and column, so that
 * every configuration issue can point into the file. Pure: the caller reads the file.
 *
 * YAML 1.2 core schema (the `yaml` default): `parity: N` stays a string, `0x10` is a number.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { ConfigIssue, PathSegment } from './issues.ts';

/** A 1-based position in a file. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** Options of {@link Locator}. */
export interface LocateOptions {
  /** Point at the map key of the last segment instead of its value (unknown keys). */
  readonly key?: boolean;
  /** Characters into a scalar's text (after an opening quote), e.g. an expression's error column. */
  readonly inner?: number;
}

/**
 * Finds the position of `path` in the file. When the path does not exist (a missing key), it
 * points at the deepest part that does.
 */
export type Locator = (path: readonly PathSegment[], options?: LocateOptions) => Position | undefined;

/** One YAML file, parsed. */
export interface ParsedYaml {
  /** The file as the user named it; used in messages. */
  readonly path: string;
  readonly source: string;
  readonly doc: Document;
  /** Plain JS data (`doc.toJS()`); `null` for an empty file. */
  readonly data: unknown;
  readonly locate: Locator;
  /** YAML syntax errors (duplicate keys, bad indentation…); `data` is unusable when non-empty. */
  readonly issues: readonly ConfigIssue[];
}

/** Line-start offsets for offset → line:column. */
function lineStarts(source: string): number[] {
  const starts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function positionOf(starts: readonly number[], offset: number): Position {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}

/**
 * An error of alias resolution (`toJS` throws for an alias to an anchor not defined before it, or
 * for too many alias expansions) pointed at the alias: the first unresolved one, else the first
 * alias in the file.
 */
function aliasIssue(file: string, doc: Document, starts: readonly number[], message: string): ConfigIssue {
  let at: { offset: number; path: PathSegment[]; source: string; unresolved: boolean } | undefined;
  visit(doc, {
    Alias(key, node, ancestry) {
      const unresolved = node.resolve(doc) === undefined;
      if (at !== undefined && (at.unresolved || !unresolved)) return;
      const path: PathSegment[] = [];
      for (const a of ancestry) if (isPair(a) && isScalar(a.key)) path.push(String(a.key.value));
      else if (isSeq(a)) {
        const i = ancestry.indexOf(a);
        const child = ancestry[i + 1] ?? node;
        path.push(a.items.indexOf(child as never));
      }
      if (typeof key === 'number' && path.length > 0 && typeof path[path.length - 1] === 'number') path[path.length - 1] = key;
      at = { offset: node.range?.[0] ?? 0, path, source: node.source, unresolved };
    },
  });
  const first = message.split('\n')[0] ?? message;
  if (at === undefined) return { file, path: [], line: 1, column: 1, message: `YAML: ${first}` };
  const pos = positionOf(starts, at.offset);
  const fix = at.unresolved
    ? `define the anchor &${at.source} before this alias, or remove *${at.source}`
    : 'expand fewer aliases (at most 100 expansions per file)';
  return { file, path: at.path, line: pos.line, column: pos.column, message: `YAML: ${first}; ${fix}` };
}

/** Parses YAML text; never throws (syntax errors become issues). */
export function parseYaml(path: string, source: string): ParsedYaml {
  const doc = parseDocument(source, { prettyErrors: false, uniqueKeys: true });
  const starts = lineStarts(source);
  const issues: ConfigIssue[] = doc.errors.map((e) => {
    const pos = positionOf(starts, e.pos[0]);
    return { file: path, path: [], line: pos.line, column: pos.column, message: `YAML syntax: ${e.message.split('\n')[0]}` };
  });
  let data: unknown = null;
  if (issues.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: 100 }) ?? null;
    } catch (e) {
      issues.push(aliasIssue(path, doc, starts, (e as Error).message));
    }
  }
  const resolve = (n: unknown): unknown => (isAlias(n) ? n.resolve(doc) : n);

  const locate: Locator = (target, options = {}) => {
    let node: unknown = resolve(doc.contents);
    let best: number | undefined = (node as YamlNode | null)?.range?.[0];
    for (let i = 0; i < target.length; i++) {
      const seg = target[i]!;
      const last = i === target.length - 1;
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (pair === undefined) break;
        if (last && options.key === true && isScalar(pair.key) && pair.key.range) return positionOf(starts, pair.key.range[0]);
        next = resolve(pair.value);
        // `key:` with nothing after it: point at the key.
        const empty = isScalar(next) && next.value === null && next.range != null && next.range[0] === next.range[1];
        if (next === null || empty || (next as YamlNode).range === undefined) {
          return isScalar(pair.key) && pair.key.range ? positionOf(starts, pair.key.range[0]) : best === undefined ? undefined : positionOf(starts, best);
        }
      } else if (isSeq(node) && typeof seg === 'number') {
        next = resolve(node.items[seg]);
        if (next === undefined || next === null) break;
      } else {
        break;
      }
      node = next;
      best = (node as YamlNode).range?.[0] ?? best;
    }
    if (best === undefined) return undefined;
    let offset = best;
    if (options.inner !== undefined) {
      const quoted = isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE');
      offset += options.inner + (quoted ? 1 : 0);
    }
    return positionOf(starts, offset);
  };
  return { path, source, doc, data, locate, issues };
}

/** Builds an issue at a path, located in the file. */
export function issueAt(file: ParsedYaml, path: readonly PathSegment[], message: string, options?: LocateOptions): ConfigIssue {
  const pos = file.locate(path, options);
  return pos === undefined ? { file: file.path, path, message } : { file: file.path, path, line: pos.line, column: pos.column, message };
}
