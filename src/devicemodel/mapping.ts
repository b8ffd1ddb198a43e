/**
 * Applies access-template mappings (points -> model attribute) and inverts them for writes,
 * following Baetyl's `dmcontext/expression.go` semantics: `value` passes one point through,
 * `calculate` evaluates the expression over numbers, precision rounds like Go's
 * `strconv.ParseFloat(fmt.Sprintf("%.<p>f", v))`; writes solve a linear expression for its first
 * variable.
 */
import type { Mapping } from './compiled.ts';
import type { AttributeValue, PointValue, Quality } from './types.ts';
import { evaluate, formatExpression, solveLinear, variableIds } from './expression.ts';

/** One point's current reading, as `applyMapping` looks it up. */
export interface PointReading {
  readonly quality: Quality;
  readonly value: PointValue;
}

/** An attribute value with its quality, or bad with the reason. */
export type MappingResult = { quality: Quality; value: AttributeValue } | { quality: 'bad'; reason: string };

/**
 * Rounds to `precision` decimal places the way Baetyl does (`strconv.ParseFloat(fmt.Sprintf("%.<p>f", v))`):
 * Go rounds the exact decimal expansion of the double, so 1.005 -> 1 (it is 1.00499999…) and an
 * exact tie goes to the even digit (2.5 -> 2, 0.125 -> 0.12). Non-finite values and negative
 * precision pass unchanged; -0 becomes 0.
 */
export function roundTo(value: number, precision: number): number {
  if (!Number.isFinite(value) || !(precision >= 0)) return value;
  // Doubles this large are integers already (and toFixed would switch to exponent notation).
  if (Math.abs(value) >= 2 ** 52) return value;
  const p = Math.min(Math.trunc(precision), 99);
  let r = Number(value.toFixed(p));
  // toFixed rounds an exact tie away from zero; Go's strconv rounds it to even. toFixed(100)
  // gives the exact expansion (any double below 2^52 with a tie at digit p+1 <= 100 has one this short).
  const exact = Math.abs(value).toFixed(100);
  const cut = exact.indexOf('.') + 1 + p;
  if (/^50*$/.test(exact.slice(cut))) {
    const kept = exact.slice(0, cut);
    const last = kept.replace('.', '').slice(-1);
    if (Number(last) % 2 === 0) r = Math.sign(value) * Number(kept);
  }
  return r === 0 ? 0 : r;
}

function pointsOf(m: Mapping): readonly string[] {
  return m.pointIds.length > 0 ? m.pointIds : variableIds(m.expr);
}

/**
 * Computes an attribute from its points.
 *
 * - Quality is the worst of the inputs: a missing or bad point makes the result bad (with the
 *   point named in `reason`), an uncertain one makes it uncertain.
 * - `value`: the first point's value passes through; numbers are rounded when `precision` is set;
 *   a bigint stays a bigint unless `precision` is set (then it becomes a rounded number).
 * - `calculate`: inputs become numbers (bool -> 0/1, bigint -> Number; a string is bad), the
 *   expression is evaluated and rounded. A non-finite result (e.g. division by zero) is bad.
 */
export function applyMapping(m: Mapping, lookup: (pointId: string) => PointReading | undefined): MappingResult {
  const ids = pointsOf(m);
  if (ids.length === 0) return { quality: 'bad', reason: `${m.attribute}: the mapping reads no point` };
  // `value` reads only its first point: no map of readings (this runs per attribute per poll).
  if (m.kind === 'value') return passThrough(m, ids[0]!, lookup(ids[0]!));
  let quality: Quality = 'good';
  const readings = new Map<string, PointReading>();
  for (const id of ids) {
    const r = lookup(id);
    if (r === undefined) return { quality: 'bad', reason: `${m.attribute}: point x${id} has no value` };
    if (r.quality === 'bad') return { quality: 'bad', reason: `${m.attribute}: point x${id} is bad` };
    if (r.quality === 'uncertain') quality = 'uncertain';
    readings.set(id, r);
  }

  const numbers = new Map<string, number>();
  for (const [id, r] of readings) {
    const v = r.value;
    if (typeof v === 'string') return { quality: 'bad', reason: `${m.attribute}: point x${id} is text, not a number` };
    numbers.set(id, typeof v === 'boolean' ? (v ? 1 : 0) : Number(v));
  }
  const result = evaluate(m.expr, (id) => numbers.get(id));
  if (result === undefined) return { quality: 'bad', reason: `${m.attribute}: a point of ${formatExpression(m.expr)} has no value` };
  if (!Number.isFinite(result)) return { quality: 'bad', reason: `${m.attribute}: ${formatExpression(m.expr)} gave ${result}` };
  return { quality, value: m.precision === undefined ? result : roundTo(result, m.precision) };
}

/** A `value` mapping: the point's value passes through (numbers rounded when `precision` is set). */
function passThrough(m: Mapping, id: string, r: PointReading | undefined): MappingResult {
  if (r === undefined) return { quality: 'bad', reason: `${m.attribute}: point x${id} has no value` };
  if (r.quality === 'bad') return { quality: 'bad', reason: `${m.attribute}: point x${id} is bad` };
  const quality: Quality = r.quality === 'uncertain' ? 'uncertain' : 'good';
  const v = r.value;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return { quality: 'bad', reason: `${m.attribute}: point x${id} is ${v}` };
    return { quality, value: m.precision === undefined ? v : roundTo(v, m.precision) };
  }
  if (typeof v === 'bigint' && m.precision !== undefined) return { quality, value: roundTo(Number(v), m.precision) };
  return { quality, value: v };
}

/**
 * The point write that makes the attribute take `value` (Baetyl 置数): `value` mappings write
 * the value as-is to their first point; `calculate` mappings accept numbers only and solve the
 * (linear) expression for its first variable. Errors name the attribute.
 */
export function invertMapping(
  m: Mapping,
  value: number | bigint | boolean | string,
): { ok: true; pointId: string; value: PointValue } | { ok: false; error: string } {
  const ids = pointsOf(m);
  const first = ids[0];
  if (first === undefined) return { ok: false, error: `${m.attribute}: the mapping reads no point to write` };
  if (m.kind === 'value') return { ok: true, pointId: first, value };
  if (typeof value !== 'number' && typeof value !== 'bigint') {
    return { ok: false, error: `${m.attribute}: a calculated attribute takes a number, got ${typeof value} ${JSON.stringify(value)}` };
  }
  const solved = solveLinear(m.expr, Number(value));
  if (!solved.ok) return { ok: false, error: `${m.attribute}: cannot write through ${formatExpression(m.expr)}: ${solved.error}` };
  return { ok: true, pointId: solved.id, value: solved.value };
}
