/**
 * JSON document helpers for shadows: equality, Baetyl's report merge, RFC 7386 merge patch, the
 * delta diff, and a bigint-safe text codec for storage. Pure; every function returns new objects
 * and never mutates its inputs, so a shadow handed out by the store can be shared safely.
 */
import type { AttributeValue } from '../devicemodel/types.ts';
import { ShadowError } from './errors.ts';

/** A JSON object as held in `report` / `desire` (values may be `bigint` for 64-bit integers). */
export type ShadowDoc = { readonly [key: string]: AttributeValue };

/**
 * Baetyl's `maxJSONLevel` (`baetyl-go spec/v1/node.go`): the document is level 1 and a merge that
 * would recurse into a map at level 5 fails ("the level of json exceeds the max limit").
 */
export const MAX_JSON_LEVEL = 5;

/** True for a JSON object (not an array, not null). */
export function isDoc(v: AttributeValue | undefined): v is ShadowDoc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sets an own data property, also for the key `__proto__` (plain assignment would change the prototype). */
function put(o: Record<string, AttributeValue>, key: string, value: AttributeValue): void {
  if (key === '__proto__') {
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    o[key] = value;
  }
}

function own(o: ShadowDoc, key: string): AttributeValue | undefined {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/**
 * Structural equality of two values as JSON would see them: a `bigint` equals a `number` of the
 * same value (`5n` and `5` are the same JSON literal); key order does not matter.
 */
export function valueEqual(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === 'number' || ta === 'bigint') && (tb === 'number' || tb === 'bigint')) {
    if (ta === tb) return ta === 'number' && Number.isNaN(a as number) && Number.isNaN(b as number);
    // Mixed number/bigint: loose equality compares the mathematical values exactly.
    // eslint-disable-next-line eqeqeq
    return a == b;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!valueEqual(a[i] as AttributeValue, b[i] as AttributeValue)) return false;
    return true;
  }
  if (isDoc(a)) {
    if (!isDoc(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) {
      if (!Object.hasOwn(b, k) || !valueEqual(a[k], b[k])) return false;
    }
    return true;
  }
  return false;
}

/**
 * Baetyl's `Report.Merge` for one value: maps merge key by key, anything else (including `null`
 * and arrays) overwrites. `level` is the level of the map `left` sits in (a top-level attribute
 * is at level 2, the document being level 1). Returns `left` itself when nothing changed.
 * @throws ShadowError `TooDeep` when two maps would be merged at level {@link MAX_JSON_LEVEL}.
 */
export function mergeValue(left: AttributeValue | undefined, right: AttributeValue, level: number): AttributeValue {
  if (left === undefined || !isDoc(left) || !isDoc(right)) return right;
  if (level >= MAX_JSON_LEVEL) {
    throw new ShadowError('TooDeep', `the level of json exceeds the max limit (${MAX_JSON_LEVEL})`);
  }
  let out: Record<string, AttributeValue> | undefined;
  for (const key of Object.keys(right)) {
    const lv = own(left, key);
    const nv = mergeValue(lv, right[key] as AttributeValue, level + 1);
    if (lv !== undefined && (lv === nv || valueEqual(lv, nv))) continue;
    out ??= { ...left };
    put(out, key, nv);
  }
  return out ?? left;
}

/**
 * RFC 7386 (JSON Merge Patch) §2 `MergePatch(Target, Patch)`: an object patch merges key by key,
 * `null` removes a key, any other patch value replaces the target.
 * @throws ShadowError `TooDeep` when the patch nests objects deeper than {@link MAX_JSON_LEVEL} levels.
 */
export function mergePatch(target: AttributeValue | undefined, patch: AttributeValue, level = 1): AttributeValue {
  if (!isDoc(patch)) return patch;
  if (level > MAX_JSON_LEVEL) {
    throw new ShadowError('TooDeep', `the level of json exceeds the max limit (${MAX_JSON_LEVEL})`);
  }
  const out: Record<string, AttributeValue> = target !== undefined && isDoc(target) ? { ...target } : {};
  for (const key of Object.keys(patch)) {
    const pv = patch[key] as AttributeValue;
    if (pv === null) {
      delete out[key];
    } else {
      put(out, key, mergePatch(own(out, key), pv, level + 1));
    }
  }
  return out;
}

/**
 * The delta as baetyl-core computes it (`Desire.Diff`): the merge patch that turns `report` into
 * `desire` (`jsonpatch.CreateMergePatch`) with its nulls removed, i.e. only keys whose desired
 * value differs from (or is missing in) the report. One deliberate difference: a nested object
 * left empty once its nulls are removed is dropped too (Baetyl keeps `{"a":{}}`), since an empty
 * object asks nothing of the device.
 */
export function diffDocs(report: ShadowDoc, desire: ShadowDoc): ShadowDoc {
  const out: Record<string, AttributeValue> = {};
  for (const key of Object.keys(desire)) {
    const dv = desire[key] as AttributeValue;
    if (dv === null) continue; // a null is "no change" once cleaned
    const rv = own(report, key);
    if (rv !== undefined && isDoc(rv) && isDoc(dv)) {
      const sub = diffDocs(rv, dv);
      if (Object.keys(sub).length > 0) put(out, key, sub);
    } else if (rv === undefined || !valueEqual(rv, dv)) {
      put(out, key, isDoc(dv) ? withoutNulls(dv) : dv);
    }
  }
  return out;
}

/** Removes `null` members of objects, recursively (Baetyl's `clean`; arrays are left alone). */
function withoutNulls(doc: ShadowDoc): ShadowDoc {
  const out: Record<string, AttributeValue> = {};
  for (const key of Object.keys(doc)) {
    const v = doc[key] as AttributeValue;
    if (v === null) continue;
    put(out, key, isDoc(v) ? withoutNulls(v) : v);
  }
  return out;
}

const BIGINT_TAG = '$bigint';

/**
 * Serializes a value for storage. `bigint` (64-bit integers) is stored as `{"$bigint":"<digits>"}`
 * so that no digit is lost on the way back; everything else is plain JSON.
 */
export function encodeJson(value: unknown): string {
  // A replacer makes JSON.stringify several times slower; only documents with a bigint need it.
  try {
    return JSON.stringify(value);
  } catch {
    return JSON.stringify(value, bigintReplacer);
  }
}

function bigintReplacer(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? { [BIGINT_TAG]: v.toString() } : v;
}

/** Parses what {@link encodeJson} wrote, turning `{"$bigint":"…"}` back into `bigint`. */
export function decodeJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const tag = (v as Record<string, unknown>)[BIGINT_TAG];
      if (typeof tag === 'string' && Object.keys(v).length === 1) return BigInt(tag);
    }
    return v;
  });
}
