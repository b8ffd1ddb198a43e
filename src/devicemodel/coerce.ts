/**
 * Conversions to a model property's type: lenient for reports (a driver's value becomes the
 * product's type, as Baetyl's `format.go ParsePropertyValue` does: ints truncate toward zero), and
 * strict for desired values coming down from the cloud (Baetyl's `ParsePropertyValues` rejects
 * out-of-range numbers; we also check type, mode, range and enum membership).
 */
import type { ModelProperty } from './compiled.ts';
import type { AttributeValue, ModelType, PointValue } from './types.ts';
import { stringifyJson } from './json.ts';

type IntType = 'int' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64';

/** Inclusive range of each integer model type; `int` is taken as 64-bit (Go's `int` on 64-bit hosts). */
const INT_RANGES: Readonly<Record<IntType, readonly [bigint, bigint]>> = {
  int: [-(2n ** 63n), 2n ** 63n - 1n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/**
 * The same ranges as doubles, for safe integers (|v| < 2^53): against those, comparing doubles
 * is exact (a bound's rounding cannot cross a safe integer) and skips a BigInt per sample.
 */
const NUM_RANGES = Object.fromEntries(Object.entries(INT_RANGES).map(([t, [min, max]]) => [t, [Number(min), Number(max)]])) as unknown as Readonly<
  Record<IntType, readonly [number, number]>
>;

/** Largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

type Result<T> = { ok: true; value: T } | { ok: false; error: string };

function isIntType(t: ModelType): t is IntType {
  return t in INT_RANGES;
}

/** A short description of a value for error messages: `string "abc"`, `1.5`, `true`, `an object`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const s = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `string ${JSON.stringify(s)}`;
  }
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function rangeText(t: IntType): string {
  const [min, max] = INT_RANGES[t];
  return `the ${t} range [${min}, ${max}]`;
}

/** Integer check for a truncated number or a bigint; returns the value in the same JS kind. */
function intInRange(t: IntType, v: number | bigint): Result<number | bigint> {
  if (typeof v === 'number' && Number.isSafeInteger(v)) {
    const [lo, hi] = NUM_RANGES[t];
    if (v < lo || v > hi) return { ok: false, error: `${v} is out of ${rangeText(t)}` };
    return { ok: true, value: v === 0 ? 0 : v };
  }
  const big = typeof v === 'bigint' ? v : BigInt(v);
  const [min, max] = INT_RANGES[t];
  if (big < min || big > max) return { ok: false, error: `${v} is out of ${rangeText(t)}` };
  // Only 64-bit types keep bigint: smaller ones always fit a double exactly.
  if (typeof v === 'bigint' && t !== 'int64' && t !== 'uint64' && t !== 'int') return { ok: true, value: Number(v) };
  return { ok: true, value: v === 0 ? 0 : v }; // -0 -> 0
}

/** A report value as a number/bigint, leniently (bool -> 0/1, numeric text parsed). */
function looseNumber(value: AttributeValue, wantInt: boolean): number | bigint | undefined {
  if (typeof value === 'number' || typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const s = value.trim();
    // Integer text may exceed 2^53 (uint64 counters): parse it exactly.
    if (wantInt && /^[+-]?\d+$/.test(s)) return BigInt(s);
    const n = s === '' ? NaN : Number(s);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function failWith(name: string, why: string): { ok: false; error: string } {
  return { ok: false, error: `${name}: ${why}` };
}

function coerceValue(name: string, type: ModelType, prop: ModelProperty, value: AttributeValue): Result<AttributeValue> {
  // Hot path (every sample of every poll): a finite number for a float attribute.
  if (typeof value === 'number' && (type === 'float64' || type === 'float32') && Number.isFinite(value) && (type === 'float64' || Math.abs(value) <= FLOAT32_MAX)) {
    return { ok: true, value };
  }
  if (typeof value === 'boolean' && type === 'bool') return { ok: true, value };
  if (value === null) return failWith(name, `no value for ${type}`);
  if (isIntType(type)) {
    const n = looseNumber(value, true);
    if (n === undefined) return failWith(name, `cannot convert ${describeValue(value)} to ${type}`);
    if (typeof n === 'number' && !Number.isFinite(n)) return failWith(name, `cannot convert ${n} to ${type}`);
    const r = intInRange(type, typeof n === 'number' ? Math.trunc(n) : n);
    return r.ok ? r : failWith(name, r.error);
  }
  switch (type) {
    case 'float32':
    case 'float64': {
      const n = looseNumber(value, false);
      if (n === undefined) return failWith(name, `cannot convert ${describeValue(value)} to ${type}`);
      const v = Number(n);
      if (!Number.isFinite(v)) return failWith(name, `cannot convert ${v} to ${type}`);
      if (type === 'float32' && Math.abs(v) > FLOAT32_MAX) return failWith(name, `${v} is out of the float32 range`);
      return { ok: true, value: v };
    }
    case 'bool':
      if (typeof value === 'boolean') return { ok: true, value };
      if (typeof value === 'number') return Number.isNaN(value) ? failWith(name, 'cannot convert NaN to bool') : { ok: true, value: value !== 0 };
      if (typeof value === 'bigint') return { ok: true, value: value !== 0n };
      if (value === 'true' || value === '1') return { ok: true, value: true };
      if (value === 'false' || value === '0') return { ok: true, value: false };
      return failWith(name, `cannot convert ${describeValue(value)} to bool`);
    case 'string':
      return { ok: true, value: typeof value === 'object' ? stringifyJson(value) : String(value) };
    case 'enum': {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') {
        return failWith(name, `cannot convert ${describeValue(value)} to enum`);
      }
      const allowed = prop.enumValues;
      if (allowed === undefined || allowed.length === 0) return { ok: true, value };
      // Devices often report an enum code as a number while the model lists it as text, or back.
      const hit = allowed.find((e) => e === value || String(e) === String(value));
      if (hit === undefined) return failWith(name, `${describeValue(value)} is not one of ${allowed.map((e) => JSON.stringify(e)).join(', ')}`);
      return { ok: true, value: hit };
    }
    case 'time':
    case 'date':
      return typeof value === 'string' ? { ok: true, value } : failWith(name, `expected text for ${type}, got ${describeValue(value)}`);
    case 'array': {
      if (!Array.isArray(value)) return failWith(name, `expected an array, got ${describeValue(value)}`);
      const items = value as readonly AttributeValue[];
      const itemType = prop.arrayItemType;
      if (itemType === undefined) return { ok: true, value: items };
      const out: AttributeValue[] = [];
      for (let i = 0; i < items.length; i++) {
        const r = coerceValue(`${name}[${i}]`, itemType, prop, items[i]!);
        if (!r.ok) return r;
        out.push(r.value);
      }
      return { ok: true, value: out };
    }
    case 'object':
      return typeof value === 'object' && !Array.isArray(value) ? { ok: true, value } : failWith(name, `expected an object, got ${describeValue(value)}`);
  }
  return failWith(name, `unknown type ${String(type)}`);
}

/**
 * Converts a reported attribute value to the property's model type. Lenient like Baetyl:
 * numbers truncate toward zero for int types (then range-checked per width; `int` = int64),
 * bool/numeric text convert to numbers, numbers convert to bool (!= 0), anything converts to
 * string, enum values must be listed (matched by text, so 1 matches "1"), time/date take text.
 * Errors start with the property name.
 */
export function coerceToModel(prop: ModelProperty, value: AttributeValue): { ok: true; value: AttributeValue } | { ok: false; error: string } {
  return coerceValue(prop.name, prop.type, prop, value);
}

/**
 * True when {@link coerceToModel}(prop, value) is `{ok: true, value}` with this very value: the
 * check of the hot path (a number or bool sample for a property of its own kind) without making
 * the result object. False means "not known": call coerceToModel.
 */
export function keepsValue(prop: ModelProperty, value: AttributeValue): boolean {
  const type = prop.type;
  if (typeof value === 'number') {
    if (type === 'float64') return Number.isFinite(value);
    if (type === 'float32') return Number.isFinite(value) && Math.abs(value) <= FLOAT32_MAX;
    if (!isIntType(type) || !Number.isSafeInteger(value) || Object.is(value, -0)) return false;
    const [lo, hi] = NUM_RANGES[type];
    return value >= lo && value <= hi;
  }
  return typeof value === 'boolean' && type === 'bool';
}

/**
 * Checks a desired value (from a cloud delta) before it is written. Strict: numeric types take
 * JSON numbers only (integers for int types, within the type's range), bool takes true/false or
 * 0/1, string/time/date take text, enum values must be listed; then `min`/`max` apply. `null`
 * ("no change" in a merge patch) is an error if it gets here; so is a read-only property.
 */
export function validateDesired(prop: ModelProperty, value: unknown): { ok: true; value: PointValue } | { ok: false; error: string } {
  const name = prop.name;
  const type = prop.type;
  const fail = (why: string): { ok: false; error: string } => ({ ok: false, error: `${name}: ${why}` });
  if (prop.mode === 'ro') return { ok: false, error: `${name} is read-only (mode: ro)` };
  if (value === null || value === undefined) return fail(`${describeValue(value)} is not a value (null means "no change")`);

  let out: PointValue;
  if (isIntType(type)) {
    if (typeof value === 'bigint') out = value;
    else if (typeof value === 'number' && Number.isInteger(value)) out = value;
    else return fail(`expected an integer (${type}), got ${describeValue(value)}`);
    const r = intInRange(type, out);
    if (!r.ok) return fail(r.error);
    out = r.value;
  } else {
    switch (type) {
      case 'float32':
      case 'float64':
        if (typeof value !== 'number' || !Number.isFinite(value)) return fail(`expected a number (${type}), got ${describeValue(value)}`);
        if (type === 'float32' && Math.abs(value) > FLOAT32_MAX) return fail(`${value} is out of the float32 range`);
        out = value;
        break;
      case 'bool':
        if (typeof value === 'boolean') out = value;
        else if (value === 0 || value === 1) out = value === 1;
        else return fail(`expected a boolean (true/false or 0/1), got ${describeValue(value)}`);
        break;
      case 'string':
      case 'time':
      case 'date':
        if (typeof value !== 'string') return fail(`expected text (${type}), got ${describeValue(value)}`);
        out = value;
        break;
      case 'enum': {
        if (typeof value !== 'string' && typeof value !== 'number') return fail(`expected an enum value, got ${describeValue(value)}`);
        const allowed = prop.enumValues;
        if (allowed !== undefined && allowed.length > 0 && !allowed.includes(value)) {
          return fail(`${describeValue(value)} is not one of ${allowed.map((e) => JSON.stringify(e)).join(', ')}`);
        }
        out = value;
        break;
      }
      default:
        return fail(`properties of type ${type} cannot be written`);
    }
  }

  if (typeof out === 'number' || typeof out === 'bigint') {
    // Compare as numbers: min/max are plain numbers from YAML.
    const n = Number(out);
    if (prop.min !== undefined && n < prop.min) return fail(`${out} is below the minimum ${prop.min}${prop.max !== undefined ? ` (range [${prop.min}, ${prop.max}])` : ''}`);
    if (prop.max !== undefined && n > prop.max) return fail(`${out} is above the maximum ${prop.max}${prop.min !== undefined ? ` (range [${prop.min}, ${prop.max}])` : ''}`);
  }
  return { ok: true, value: out };
}
