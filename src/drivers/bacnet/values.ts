/**
 * Pure value rules between BACnet application data and fieldgate point values: the application
 * tag a write uses for an object type, decoding of read results, status flags as quality, and
 * BACnet error class/code as a point error. No I/O and no @bacnet-js/client import.
 */
import type { PointError, PointType, PointValue, Quality } from '../sdk/index.ts';
import type { DriverErrorCode } from '../sdk/index.ts';
import type { BacnetAddress } from './address.ts';
import { ERROR_CLASS, ERROR_CODE, OBJECT_TYPES, PROP, STATUS_FLAG, TAG } from './constants.ts';

/** Application data as @bacnet-js/client decodes and encodes it. */
export interface AppData {
  readonly type: number;
  readonly value: unknown;
}

/** Outcome of a conversion. */
export type Converted<T> = { readonly kind: 'ok'; readonly value: T } | { readonly kind: 'error'; readonly error: PointError };

const OT = OBJECT_TYPES;

/**
 * The application tag of an object type's present-value (ASHRAE 135 §12: Analog_* REAL,
 * Binary_* BACnetBinaryPV = ENUMERATED, Multi-state_* Unsigned, Integer Value INTEGER,
 * Positive Integer Value Unsigned, CharacterString Value CharacterString, Large Analog Value
 * Double); undefined for other types.
 */
export function presentValueTag(objectType: number): number | undefined {
  switch (objectType) {
    case OT['analog-input']:
    case OT['analog-output']:
    case OT['analog-value']:
      return TAG.REAL;
    case OT['binary-input']:
    case OT['binary-output']:
    case OT['binary-value']:
      return TAG.ENUMERATED;
    case OT['multi-state-input']:
    case OT['multi-state-output']:
    case OT['multi-state-value']:
    case OT['positive-integer-value']:
    case OT.accumulator:
      return TAG.UNSIGNED;
    case OT['integer-value']:
      return TAG.SIGNED;
    case OT['characterstring-value']:
      return TAG.CHARACTER_STRING;
    case OT['large-analog-value']:
      return TAG.DOUBLE;
    default:
      return undefined;
  }
}

/** The tag a point's writes use: `applicationTagNumber`, else by object type (present-value, relinquish-default), else by point type. */
export function writeTag(a: BacnetAddress, type: PointType): number {
  if (a.tag !== undefined) return a.tag;
  if (a.propertyId === PROP.presentValue || a.propertyId === PROP.relinquishDefault) {
    const t = presentValueTag(a.objectType);
    if (t !== undefined) return t;
  }
  switch (type) {
    case 'bool':
      return TAG.BOOLEAN;
    case 'float32':
      return TAG.REAL;
    case 'float64':
      return TAG.DOUBLE;
    case 'string':
      return TAG.CHARACTER_STRING;
    case 'int16':
    case 'int32':
    case 'int64':
      return TAG.SIGNED;
    default:
      return TAG.UNSIGNED;
  }
}

function bad(code: DriverErrorCode, message: string): Converted<never> {
  return { kind: 'error', error: { code, message } };
}

function asNumber(v: PointValue): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

/** Encodes a value for WriteProperty with the point's tag; rejects what the tag cannot carry. */
export function encodeWrite(a: BacnetAddress, type: PointType, value: PointValue): Converted<AppData> {
  const tag = writeTag(a, type);
  switch (tag) {
    case TAG.BOOLEAN:
      return { kind: 'ok', value: { type: tag, value: typeof value === 'boolean' ? value : asNumber(value) !== 0 } };
    case TAG.ENUMERATED: {
      // BACnetBinaryPV: inactive (0) / active (1); other enumerations pass their number.
      const n = typeof value === 'boolean' ? (value ? 1 : 0) : asNumber(value);
      if (n === undefined || !Number.isInteger(n) || n < 0) return bad('BadValue', `${String(value)} is not an enumerated value (a whole number ≥ 0, or a bool)`);
      return { kind: 'ok', value: { type: tag, value: n } };
    }
    case TAG.UNSIGNED: {
      const n = asNumber(value);
      if (n === undefined || !Number.isInteger(n) || n < 0 || n > 0xffffffff) return bad('BadValue', `${String(value)} is not an Unsigned32 value`);
      return { kind: 'ok', value: { type: tag, value: n } };
    }
    case TAG.SIGNED: {
      const n = asNumber(value);
      if (n === undefined || !Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) return bad('BadValue', `${String(value)} is not an INTEGER (32-bit) value`);
      return { kind: 'ok', value: { type: tag, value: n } };
    }
    case TAG.REAL:
    case TAG.DOUBLE: {
      const n = asNumber(value);
      if (n === undefined) return bad('BadValue', `${String(value)} is not a number`);
      return { kind: 'ok', value: { type: tag, value: n } };
    }
    case TAG.CHARACTER_STRING:
      return { kind: 'ok', value: { type: tag, value: String(value) } };
    default:
      return bad('Unsupported', `writing application tag ${tag} is not supported (use 1, 2, 3, 4, 5, 7 or 9)`);
  }
}

/** The value to write for a relinquish: NULL (§19.2.3: relinquishes the priority slot). */
export const NULL_VALUE: AppData = { type: TAG.NULL, value: null };

/** A bit string as @bacnet-js/client decodes it, as an integer (bit i = flag i). */
export function bitsToNumber(v: unknown): number | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const bs = v as { bitsUsed?: unknown; value?: unknown };
  if (!Array.isArray(bs.value)) return undefined;
  let n = 0;
  bs.value.forEach((byte, i) => {
    if (typeof byte === 'number' && i < 4) n |= (byte & 0xff) << (8 * i);
  });
  return n >>> 0;
}

const INT_TYPES = new Set<PointType>(['int16', 'uint16', 'int32', 'uint32']);
const RANGES: Partial<Record<PointType, [number, number]>> = {
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
};

/** Converts a number to the point's type (rounding for integer points, range-checked). */
function numberAs(n: number, type: PointType): Converted<PointValue> {
  if (type === 'bool') return { kind: 'ok', value: n !== 0 };
  if (type === 'string') return { kind: 'ok', value: String(n) };
  if (type === 'float32' || type === 'float64') return { kind: 'ok', value: n };
  if (!Number.isFinite(n)) return bad('BadValue', `${n} does not fit type ${type}`);
  const r = Math.round(n);
  if (type === 'int64' || type === 'uint64') {
    if (type === 'uint64' && r < 0) return bad('BadValue', `${n} does not fit type uint64`);
    return { kind: 'ok', value: BigInt(r) };
  }
  const range = RANGES[type];
  if (INT_TYPES.has(type) && range !== undefined && (r < range[0] || r > range[1])) return bad('BadValue', `${n} does not fit type ${type}`);
  return { kind: 'ok', value: r };
}

/** Decodes the application data of one property to the point's type. */
export function decodeValues(values: readonly AppData[] | undefined, type: PointType): Converted<PointValue> {
  if (values === undefined || values.length === 0) return bad('Protocol', 'the property has no value');
  if (values.length > 1) return bad('BadValue', `the property holds ${values.length} values; give arrayIndex to pick one`);
  const v = values[0]!;
  switch (v.type) {
    case TAG.ERROR: {
      const e = v.value as { errorClass?: number; errorCode?: number };
      return { kind: 'error', error: errorFromClassCode(e.errorClass ?? 0, e.errorCode ?? 0) };
    }
    case TAG.NULL:
      return bad('BadValue', 'the property is NULL');
    case TAG.BOOLEAN:
      return type === 'bool' ? { kind: 'ok', value: v.value === true } : numberAs(v.value === true ? 1 : 0, type);
    case TAG.UNSIGNED:
    case TAG.SIGNED:
    case TAG.REAL:
    case TAG.DOUBLE:
    case TAG.ENUMERATED:
      return typeof v.value === 'number' ? numberAs(v.value, type) : bad('Protocol', `tag ${v.type} carried ${typeof v.value}`);
    case TAG.CHARACTER_STRING: {
      const s = String(v.value);
      if (type === 'string') return { kind: 'ok', value: s };
      const n = Number(s);
      return s.trim() !== '' && Number.isFinite(n) ? numberAs(n, type) : bad('BadValue', `"${s}" is not a ${type}`);
    }
    case TAG.BIT_STRING: {
      const n = bitsToNumber(v.value);
      return n === undefined ? bad('Protocol', 'malformed bit string') : numberAs(n, type);
    }
    case TAG.OBJECT_ID: {
      const o = v.value as { type?: number; instance?: number };
      return type === 'string' ? { kind: 'ok', value: `${o.type ?? '?'}:${o.instance ?? '?'}` } : bad('BadValue', 'an object identifier reads only as a string');
    }
    default:
      return type === 'string' ? { kind: 'ok', value: JSON.stringify(v.value) } : bad('Unsupported', `application tag ${v.type} cannot be read as ${type}`);
  }
}

/**
 * Quality from Status_Flags (§12.x.y, BACnetStatusFlags). The rule:
 * - FAULT set → `bad` (the value is not reliable: Reliability is not NO_FAULT_DETECTED);
 * - else OUT_OF_SERVICE or OVERRIDDEN set → `uncertain` (the value does not follow the
 *   physical process: it is substituted or locally overridden);
 * - else `good`. IN_ALARM alone keeps `good`: the value is valid, the process is in alarm.
 * The flags themselves are readable as a point (`propertyId: status-flags`, an integer whose
 * bit 0 is in-alarm, 1 fault, 2 overridden, 3 out-of-service).
 */
export function qualityFromFlags(flags: number): { quality: Quality; error?: PointError } {
  if (flags & (1 << STATUS_FLAG.FAULT)) return { quality: 'bad', error: { code: 'Exception', message: 'status flags: fault', detail: { statusFlags: flags } } };
  if (flags & ((1 << STATUS_FLAG.OUT_OF_SERVICE) | (1 << STATUS_FLAG.OVERRIDDEN))) return { quality: 'uncertain' };
  return { quality: 'good' };
}

const CLASS_NAMES = Object.fromEntries(Object.entries(ERROR_CLASS).map(([k, v]) => [v, k.toLowerCase()]));
const CODE_NAMES = Object.fromEntries(Object.entries(ERROR_CODE).map(([k, v]) => [v, k.toLowerCase().replaceAll('_', '-')]));

/** A BACnet Error (class, code) as a point error; the class and code go into `detail`. */
export function errorFromClassCode(errorClass: number, errorCode: number): PointError {
  let code: DriverErrorCode = 'Exception';
  switch (errorCode) {
    case ERROR_CODE.UNKNOWN_OBJECT:
    case ERROR_CODE.UNKNOWN_PROPERTY:
    case ERROR_CODE.INVALID_ARRAY_INDEX:
    case ERROR_CODE.PROPERTY_IS_NOT_AN_ARRAY:
    case ERROR_CODE.UNSUPPORTED_OBJECT_TYPE:
      code = 'BadAddress';
      break;
    case ERROR_CODE.VALUE_OUT_OF_RANGE:
    case ERROR_CODE.INVALID_DATA_TYPE:
      code = 'BadValue';
      break;
    case ERROR_CODE.WRITE_ACCESS_DENIED:
    case ERROR_CODE.READ_ACCESS_DENIED:
    case ERROR_CODE.OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED:
    case ERROR_CODE.NOT_COV_PROPERTY:
    case ERROR_CODE.REJECT_UNRECOGNIZED_SERVICE:
      code = 'Unsupported';
      break;
  }
  const className = CLASS_NAMES[errorClass] ?? String(errorClass);
  const codeName = CODE_NAMES[errorCode] ?? String(errorCode);
  return { code, message: `BACnet error ${className}/${codeName}`, detail: { errorClass, errorCode, errorClassName: className, errorCodeName: codeName } };
}
