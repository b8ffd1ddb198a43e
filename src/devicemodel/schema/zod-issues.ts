/**
 * zod issues → {@link ConfigIssue}s that say what is allowed: the expected type with its range
 * (read from the schema at the issue's path), the allowed values of enums and literals, and the
 * nearest valid key for unknown keys. Values under secret keys are never echoed.
 */
import type { z } from 'zod';
import { describeValue, didYouMean, formatPath, isSecretPath, nearest, valueAt } from './issues.ts';
import type { ConfigIssue, PathSegment } from './issues.ts';
import { issueAt } from './yaml.ts';
import type { LocateOptions, ParsedYaml } from './yaml.ts';

/** Where a parsed value came from, to turn its zod issues into located messages. */
export interface ZodIssueContext {
  readonly file: ParsedYaml;
  /** Path of the parsed value inside the file. */
  readonly base: readonly PathSegment[];
  /** The value that was parsed. */
  readonly value: unknown;
  /** The schema it was parsed with (read for ranges, allowed values and valid keys). */
  readonly schema: z.ZodType;
}

/** The parts of zod's internal schema definition this file reads. */
interface Def {
  readonly type: string;
  readonly innerType?: Schema;
  readonly in?: Schema;
  readonly out?: Schema;
  readonly shape?: Record<string, Schema>;
  readonly catchall?: Schema;
  readonly element?: Schema;
  readonly valueType?: Schema;
  readonly items?: Schema[];
  readonly options?: Schema[];
  readonly left?: Schema;
  readonly right?: Schema;
  readonly values?: unknown[];
  readonly entries?: Record<string, unknown>;
  readonly getter?: () => Schema;
}
interface Schema {
  readonly _zod: { readonly def: Def };
  readonly description?: string;
  readonly minValue?: number | null;
  readonly maxValue?: number | null;
  readonly isInt?: boolean;
  readonly minLength?: number | null;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

/** Strips wrappers and transforms to reach the schema that sees the input. */
function unwrap(s: Schema): Schema {
  for (let i = 0; i < 32; i++) {
    const d = s._zod.def;
    if (WRAPPERS.has(d.type) && d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else if (d.type === 'lazy' && d.getter) s = d.getter();
    else break;
  }
  return s;
}

/** The schemas that apply at a path below `s` (several under unions). */
export function schemasAt(s: z.ZodType, path: readonly PathSegment[]): z.ZodType[] {
  let cur: Schema[] = [s as unknown as Schema];
  for (const seg of path) {
    const next: Schema[] = [];
    const visit = (x: Schema): void => {
      const u = unwrap(x);
      const d = u._zod.def;
      switch (d.type) {
        case 'object': {
          const f = d.shape?.[String(seg)] ?? d.catchall;
          if (f && f._zod.def.type !== 'never') next.push(f);
          return;
        }
        case 'array':
          if (d.element) next.push(d.element);
          return;
        case 'record':
          if (d.valueType) next.push(d.valueType);
          return;
        case 'tuple': {
          const it = typeof seg === 'number' ? d.items?.[seg] : undefined;
          if (it) next.push(it);
          return;
        }
        case 'union':
          d.options?.forEach(visit);
          return;
        case 'intersection':
          if (d.left) visit(d.left);
          if (d.right) visit(d.right);
          return;
      }
    };
    cur.forEach(visit);
    cur = next;
  }
  return cur as unknown as z.ZodType[];
}

/** Keys an object schema at this path accepts (union of all alternatives). */
function keysAt(s: z.ZodType, path: readonly PathSegment[]): string[] {
  const keys = new Set<string>();
  for (const x of schemasAt(s, path)) {
    const d = unwrap(x as unknown as Schema)._zod.def;
    if (d.type === 'object') for (const k of Object.keys(d.shape ?? {})) keys.add(k);
  }
  return [...keys];
}

const lit = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** What a schema accepts, in words: `an integer 1..65535`, `one of "ro", "rw"`. */
export function describeSchema(schema: z.ZodType): string {
  const s = schema as unknown as Schema;
  if (typeof s.description === 'string' && s.description.length > 0) return s.description;
  const d = s._zod.def;
  if (WRAPPERS.has(d.type) && d.innerType) return describeSchema(d.innerType as unknown as z.ZodType);
  switch (d.type) {
    case 'pipe':
      // A transform says nothing about the input; a final check (e.g. a range) says the most.
      return d.out && d.out._zod.def.type !== 'transform'
        ? describeSchema(d.out as unknown as z.ZodType)
        : describeSchema(d.in as unknown as z.ZodType);
    case 'lazy':
      return d.getter ? describeSchema(d.getter() as unknown as z.ZodType) : 'a value';
    case 'number': {
      const base = s.isInt ? 'an integer' : 'a number';
      const lo = s.minValue;
      const hi = s.maxValue;
      const hasLo = typeof lo === 'number' && Number.isFinite(lo) && !(s.isInt && lo <= Number.MIN_SAFE_INTEGER);
      const hasHi = typeof hi === 'number' && Number.isFinite(hi) && !(s.isInt && hi >= Number.MAX_SAFE_INTEGER);
      if (hasLo && hasHi) return `${base} ${lo}..${hi}`;
      if (hasLo) return `${base} >= ${lo}`;
      if (hasHi) return `${base} <= ${hi}`;
      return base;
    }
    case 'string':
      return (s.minLength ?? 0) >= 1 ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'literal':
      return (d.values ?? []).map(lit).join(' or ');
    case 'enum':
      return `one of ${Object.values(d.entries ?? {}).map(lit).join(', ')}`;
    case 'object':
    case 'record':
      return 'a map';
    case 'array':
      return 'a list';
    case 'union': {
      const opts = (d.options ?? []).map((o) => unwrap(o)._zod.def);
      if (opts.every((o) => o.type === 'literal')) return `one of ${opts.flatMap((o) => o.values ?? []).map(lit).join(', ')}`;
      return [...new Set((d.options ?? []).map((o) => describeSchema(o as unknown as z.ZodType)))].join(' or ');
    }
    case 'any':
    case 'unknown':
      return 'a value';
    default:
      return d.type;
  }
}

/** The zod 4 issue fields read here. */
interface RawIssue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly expected?: string;
  readonly values?: readonly unknown[];
  readonly keys?: readonly string[];
  readonly errors?: readonly (readonly RawIssue[])[];
  readonly issues?: readonly RawIssue[];
  readonly origin?: string;
  readonly minimum?: number | bigint;
  readonly maximum?: number | bigint;
  readonly format?: string;
}

const toSegments = (p: readonly PropertyKey[]): PathSegment[] => p.map((k) => (typeof k === 'number' ? k : String(k)));

/** Converts zod issues into located config issues. */
export function fromZod(issues: readonly z.core.$ZodIssue[], ctx: ZodIssueContext): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  // Paths of keys that an unknown key is a typo of: "missing" is then implied by the hint.
  const typoed = new Set<string>();
  const emit = (rel: readonly PathSegment[], message: string, opts?: LocateOptions): void => {
    out.push(issueAt(ctx.file, [...ctx.base, ...rel], message, opts));
  };
  const expectedAt = (rel: readonly PathSegment[], fallback: string | undefined): string => {
    const ss = schemasAt(ctx.schema, rel);
    const texts = [...new Set(ss.map((s) => describeSchema(s)))];
    return texts.length > 0 ? texts.join(' or ') : (fallback ?? 'another value');
  };
  const got = (rel: readonly PathSegment[]): string => {
    const full = [...ctx.base, ...rel];
    return isSecretPath(full) ? ' (value hidden)' : `, got ${describeValue(valueAt(ctx.value, rel))}`;
  };

  const convert = (issue: RawIssue, prefix: readonly PathSegment[]): void => {
    const rel = [...prefix, ...toSegments(issue.path)];
    const input = valueAt(ctx.value, rel);
    switch (issue.code) {
      case 'invalid_type':
        if (input === undefined) emit(rel, `missing; expected ${expectedAt(rel, issue.expected)}`);
        else emit(rel, `expected ${expectedAt(rel, issue.expected)}${got(rel)}`);
        return;
      case 'too_big':
      case 'too_small':
        if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
          emit(rel, `expected ${expectedAt(rel, undefined)}${got(rel)}`);
        } else {
          const n = issue.code === 'too_small' ? `at least ${issue.minimum}` : `at most ${issue.maximum}`;
          const unit = issue.origin === 'string' ? 'character(s)' : 'item(s)';
          emit(rel, `expected ${n} ${unit}${got(rel)}`);
        }
        return;
      case 'invalid_value': {
        const values = issue.values ?? [];
        const allowed = values.length === 1 ? lit(values[0]) : `one of ${values.map(lit).join(', ')}`;
        if (input === undefined) {
          emit(rel, `missing; expected ${allowed}`);
          return;
        }
        const hint = typeof input === 'string' ? didYouMean(input, values.filter((v): v is string => typeof v === 'string')) : '';
        emit(rel, `expected ${allowed}${got(rel)}${hint}`);
        return;
      }
      case 'unrecognized_keys': {
        const valid = keysAt(ctx.schema, rel);
        for (const k of issue.keys ?? []) {
          const hint = didYouMean(k, valid);
          const meant = nearest(k, valid);
          if (meant !== undefined) typoed.add(formatPath([...ctx.base, ...rel, meant]));
          emit([...rel, k], hint ? `unknown key ${JSON.stringify(k)}${hint}` : `unknown key ${JSON.stringify(k)}; allowed keys: ${valid.join(', ')}`, { key: true });
        }
        return;
      }
      case 'invalid_union': {
        const branches = issue.errors ?? [];
        const shallow = (b: readonly RawIssue[]): boolean =>
          b.length === 1 && b[0]!.path.length === 0 && (b[0]!.code === 'invalid_type' || b[0]!.code === 'invalid_value');
        if (branches.length === 0 || branches.every(shallow)) {
          const allowed = expectedAt(rel, undefined);
          const values = branches.flatMap((b) => b[0]?.values ?? []).filter((v): v is string => typeof v === 'string');
          const hint = typeof input === 'string' ? didYouMean(input, values) : '';
          emit(rel, input === undefined ? `missing; expected ${allowed}` : `expected ${allowed}${got(rel)}${hint}`);
          return;
        }
        // The alternative that got furthest (fewest problems, not rejected at the top) explains best.
        const deep = branches.filter((b) => !shallow(b));
        const best = deep.reduce((a, b) => (b.length < a.length ? b : a));
        for (const sub of best) convert(sub, rel);
        return;
      }
      case 'invalid_element':
      case 'invalid_key':
        for (const sub of issue.issues ?? []) convert(sub, rel);
        return;
      case 'invalid_format':
        emit(rel, issue.format === 'regex' || issue.format === undefined ? `${issue.message}${got(rel)}` : `expected ${issue.format}${got(rel)}`);
        return;
      case 'not_multiple_of':
        emit(rel, `${issue.message}${got(rel)}`);
        return;
      default:
        emit(rel, issue.message);
    }
  };
  for (const i of issues) convert(i as unknown as RawIssue, []);
  return out.filter((i) => !(i.message.startsWith('missing;') && typoed.has(formatPath(i.path))));
}

/** Parses `value` with `schema`; on failure returns located issues. */
export function parseAt<T>(
  schema: z.ZodType<T>,
  value: unknown,
  file: ParsedYaml,
  base: readonly PathSegment[],
): { ok: true; value: T } | { ok: false; issues: ConfigIssue[] } {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, issues: fromZod(r.error.issues, { file, base, value, schema }) };
}
