/**
 * Which point types may feed which model attribute types through a mapping. The rule: a mapping
 * must not lose meaning silently.
 * - `value` passes the point's value through: numbers and bools feed numbers and bools; an
 *   integer feeds a float, but a float does not feed an integer attribute (the fraction would be
 *   cut); strings feed only strings, enums, times and dates.
 * - `calculate` works on numbers (Baetyl converts every variable to float64), so its points must
 *   be numeric or bool, and its result can feed a number, a bool (non-zero), an enum or a string.
 */
import type { ModelType, PointType } from '../types.ts';

const INT_POINTS: ReadonlySet<PointType> = new Set(['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);
const FLOAT_POINTS: ReadonlySet<PointType> = new Set(['float32', 'float64']);
const INT_ATTRS: ReadonlySet<ModelType> = new Set(['int', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);
const FLOAT_ATTRS: ReadonlySet<ModelType> = new Set(['float32', 'float64']);

/** True for point types `calculate` can compute with. */
export function isNumericPoint(t: PointType): boolean {
  return t === 'bool' || INT_POINTS.has(t) || FLOAT_POINTS.has(t);
}

/** Why a `value` mapping from a `point` typed point onto an `attr` typed attribute is wrong, or undefined. */
export function valueMappingProblem(point: PointType, attr: ModelType): string | undefined {
  const numeric = point === 'bool' || INT_POINTS.has(point) || FLOAT_POINTS.has(point);
  if (attr === 'string') return undefined;
  if (attr === 'array' || attr === 'object') return `a ${attr} attribute cannot be fed by one ${point} point`;
  if (attr === 'bool' || FLOAT_ATTRS.has(attr)) {
    return numeric ? undefined : `a ${point} point cannot feed a ${attr} attribute; use a numeric point`;
  }
  if (INT_ATTRS.has(attr)) {
    if (FLOAT_POINTS.has(point)) {
      return `a ${point} point would lose its fraction in a ${attr} attribute; make the attribute float32/float64 or the point an integer type`;
    }
    return numeric ? undefined : `a ${point} point cannot feed a ${attr} attribute; use a numeric point`;
  }
  if (attr === 'enum') {
    return point === 'string' || INT_POINTS.has(point) ? undefined : `an enum attribute takes integer or string values, not ${point}`;
  }
  // time, date: text as formatted, or an integer (epoch).
  return point === 'string' || INT_POINTS.has(point) ? undefined : `a ${attr} attribute takes a string or integer point, not ${point}`;
}

/** Why a `calculate` result cannot feed an `attr` typed attribute, or undefined. */
export function calculateResultProblem(attr: ModelType): string | undefined {
  if (attr === 'array' || attr === 'object' || attr === 'time' || attr === 'date') {
    return `a calculate mapping produces a number, which cannot feed a ${attr} attribute`;
  }
  return undefined;
}
