/**
 * Configuration problems as fieldgate reports them: the file, the YAML path, the position in the
 * file and what is allowed. Pure helpers: path formatting, nearest-name hints and secret checks.
 */

/** One path segment: a map key or a list index. */
export type PathSegment = string | number;

/** One problem found in a configuration file. */
export interface ConfigIssue {
  /** The file, as the user named it (e.g. `conf/modbus/sub_devices.yml`). */
  readonly file: string;
  /** The YAML path inside the file (empty for the whole file). */
  readonly path: readonly PathSegment[];
  /** 1-based line and column of the offending key or value, when the file has it. */
  readonly line?: number;
  readonly column?: number;
  /** What is wrong and what is allowed. */
  readonly message: string;
}

const PLAIN_KEY = /^[A-Za-z0-9_$\-\u0080-\uffff]+$/;

/** Renders a path as `devices[0].accessConfig.modbus.tcp.port`; odd keys are quoted (`["a.b"]`). */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out.length === 0 ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment), so that "metre" is one
 * edit from "meter". Small strings only: keys and names.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `word` when it is close enough to be a typo, else `undefined`:
 * case-insensitive edit distance at most 1 for words of up to 3 characters, else at most
 * max(2, a third of the word); and less than the word's length unless the word is a prefix of
 * the candidate (so "X" suggests nothing, "r" suggests "ro").
 */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  const limit = w.length <= 3 ? 1 : Math.max(2, Math.floor(w.length / 3));
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    const d = editDistance(w, lc);
    // Replacing every character of a short word is no typo ("X" vs "E"), unless it is a prefix ("r" → "ro").
    if (d >= w.length && !lc.startsWith(w)) continue;
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return bestD <= limit ? best : undefined;
}

/** `; did you mean "x"?` or an empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const n = nearest(word, candidates);
  return n === undefined ? '' : `; did you mean ${JSON.stringify(n)}?`;
}

const SECRET_KEYS = /^(password|passwd|secret|token|key|privateKey|passphrase|productSecret)$/i;

/** True when a value at this path must not be echoed in messages (passwords, private keys). */
export function isSecretPath(path: readonly PathSegment[]): boolean {
  return path.some((seg) => typeof seg === 'string' && SECRET_KEYS.test(seg));
}

/** A short description of a value for `got …` (strings quoted, containers named, long text cut). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (empty)';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return typeof value;
}

/** Reads the value at `path` inside plain parsed YAML data (undefined when absent). */
export function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}
