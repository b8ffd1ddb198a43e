/**
 * Pure conversions between fieldgate point values and OPC UA variants, and between OPC UA status
 * codes and point errors. No I/O and no node-opcua import: DataType ids are the numbers of
 * Part 6 §5.1.2 (Boolean = 1 … String = 12), which node-opcua's `DataType` enum uses as well.
 */
import type { PointError, PointType, PointValue, ReadResult } from '../sdk/index.ts';

/** Built-in DataType ids (Part 6 §5.1.2, Table 1). */
export const BUILTIN = {
  Boolean: 1,
  SByte: 2,
  Byte: 3,
  Int16: 4,
  UInt16: 5,
  Int32: 6,
  UInt32: 7,
  Int64: 8,
  UInt64: 9,
  Float: 10,
  Double: 11,
  String: 12,
  DateTime: 13,
} as const;

const NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(BUILTIN).map(([k, v]) => [v, k]));

/** The DataType a point type must be read from and written as (Baetyl: float32 = Float, float64 = Double). */
export const DATA_TYPE_OF: Readonly<Record<PointType, number>> = {
  bool: BUILTIN.Boolean,
  int16: BUILTIN.Int16,
  uint16: BUILTIN.UInt16,
  int32: BUILTIN.Int32,
  uint32: BUILTIN.UInt32,
  int64: BUILTIN.Int64,
  uint64: BUILTIN.UInt64,
  float32: BUILTIN.Float,
  float64: BUILTIN.Double,
  string: BUILTIN.String,
};

/** The point type that fits a built-in DataType, for error hints and discovery. */
export const POINT_TYPE_OF: Readonly<Record<number, PointType>> = Object.fromEntries(
  Object.entries(DATA_TYPE_OF).map(([t, id]) => [id, t as PointType]),
);

/** The name of a built-in DataType id (`DataType 13` for the others). */
export function dataTypeName(id: number): string {
  return NAMES[id] ?? `DataType ${id}`;
}

/** 64-bit integers travel in node-opcua as `[high, low]` unsigned 32-bit words. */
function wordsToBigInt(words: readonly number[], signed: boolean): bigint {
  const v = (BigInt(words[0]! >>> 0) << 32n) | BigInt(words[1]! >>> 0);
  return signed ? BigInt.asIntN(64, v) : v;
}

function bigIntToWords(v: bigint): [number, number] {
  const u = BigInt.asUintN(64, v);
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
}

/** Outcome of decoding a variant value. */
export type Decoded = { readonly ok: true; readonly value: PointValue } | { readonly ok: false; readonly message: string };

/**
 * The point value of a variant's scalar value (`dataType` is the variant's). An array of one
 * element (a single-element index range) is unwrapped.
 */
export function fromVariant(type: PointType, dataType: number, raw: unknown): Decoded {
  let v: unknown = raw;
  const isTyped = ArrayBuffer.isView(v) && !(v instanceof DataView);
  if ((Array.isArray(v) || isTyped) && !(dataType === BUILTIN.Int64 || dataType === BUILTIN.UInt64)) {
    const arr = v as ArrayLike<unknown>;
    if (arr.length !== 1) return { ok: false, message: `the node holds an array of ${arr.length} elements; select one with indexRange` };
    v = arr[0];
  }
  if ((dataType === BUILTIN.Int64 || dataType === BUILTIN.UInt64) && Array.isArray(v) && Array.isArray(v[0])) {
    if (v.length !== 1) return { ok: false, message: `the node holds an array of ${v.length} elements; select one with indexRange` };
    v = v[0];
  }
  const want = DATA_TYPE_OF[type];
  if (dataType !== want) return { ok: false, message: `value has DataType ${dataTypeName(dataType)}, the point is ${type} (${dataTypeName(want)})` };
  switch (type) {
    case 'bool':
      return typeof v === 'boolean' ? { ok: true, value: v } : { ok: false, message: `expected a Boolean, got ${String(v)}` };
    case 'string':
      return typeof v === 'string' ? { ok: true, value: v } : v === null ? { ok: true, value: '' } : { ok: false, message: `expected a String, got ${String(v)}` };
    case 'int64':
    case 'uint64':
      if (Array.isArray(v) && v.length === 2) return { ok: true, value: wordsToBigInt(v as number[], type === 'int64') };
      if (typeof v === 'bigint') return { ok: true, value: v };
      if (typeof v === 'number' && Number.isSafeInteger(v)) return { ok: true, value: BigInt(v) };
      return { ok: false, message: `expected a 64-bit integer, got ${String(v)}` };
    default:
      return typeof v === 'number' ? { ok: true, value: v } : { ok: false, message: `expected a number, got ${String(v)}` };
  }
}

const INT_RANGE: Readonly<Partial<Record<PointType, readonly [number, number]>>> = {
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};
const FLOAT32_MAX = 3.4028234663852886e38;

/** Outcome of encoding a value for a write: the node-opcua variant value, or why it cannot be. */
export type Encoded = { readonly ok: true; readonly dataType: number; readonly value: unknown } | { readonly ok: false; readonly message: string };

/** The variant value that writes `value` to a point of type `type`, range-checked. */
export function toVariantValue(type: PointType, value: PointValue): Encoded {
  const dataType = DATA_TYPE_OF[type];
  const bad = (why: string): Encoded => ({ ok: false, message: `${typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)} cannot be written as ${type}: ${why}` });
  switch (type) {
    case 'bool':
      if (typeof value === 'boolean') return { ok: true, dataType, value };
      if (value === 0 || value === 1) return { ok: true, dataType, value: value === 1 };
      return bad('expected true or false');
    case 'string':
      return typeof value === 'string' ? { ok: true, dataType, value } : bad('expected a string');
    case 'int64':
    case 'uint64': {
      let big: bigint;
      if (typeof value === 'bigint') big = value;
      else if (typeof value === 'number' && Number.isSafeInteger(value)) big = BigInt(value);
      else return bad('expected an integer');
      const fits = type === 'int64' ? BigInt.asIntN(64, big) === big : big >= 0n && BigInt.asUintN(64, big) === big;
      if (!fits) return bad(`out of the ${type} range`);
      return { ok: true, dataType, value: bigIntToWords(big) };
    }
    case 'float32':
    case 'float64': {
      const n = typeof value === 'bigint' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) return bad('expected a finite number');
      if (type === 'float32' && Math.abs(n) > FLOAT32_MAX) return bad('out of the float32 range');
      return { ok: true, dataType, value: n };
    }
    default: {
      const n = typeof value === 'bigint' ? Number(value) : value;
      const range = INT_RANGE[type]!;
      if (typeof n !== 'number' || !Number.isInteger(n)) return bad('expected an integer');
      if (n < range[0] || n > range[1]) return bad(`out of the range [${range[0]}, ${range[1]}]`);
      return { ok: true, dataType, value: n };
    }
  }
}

/** The parts of a node-opcua StatusCode this driver looks at. */
export interface StatusLike {
  readonly value: number;
  readonly name: string;
  readonly description?: string;
}

/** Severity bits of a status code (Part 4 §7.34.1): 00 Good, 01 Uncertain, 10/11 Bad. */
export function severity(status: StatusLike): 'good' | 'uncertain' | 'bad' {
  const s = status.value >>> 30;
  return s === 0 ? 'good' : s === 1 ? 'uncertain' : 'bad';
}

/** Status names that mean the address is wrong rather than the value. */
const ADDRESS_STATUSES = new Set(['BadNodeIdUnknown', 'BadNodeIdInvalid', 'BadAttributeIdInvalid', 'BadIndexRangeInvalid', 'BadIndexRangeNoData', 'BadNotReadable']);
const UNSUPPORTED_STATUSES = new Set(['BadNotWritable', 'BadWriteNotSupported', 'BadUserAccessDenied', 'BadNotSupported']);

/** The point error for a Bad status on point `name`; `detail.status` carries the status name. */
export function statusError(name: string, status: StatusLike, what: 'read' | 'write' | 'monitor'): PointError {
  const code = ADDRESS_STATUSES.has(status.name)
    ? 'BadAddress'
    : UNSUPPORTED_STATUSES.has(status.name)
      ? 'Unsupported'
      : status.name === 'BadTypeMismatch' || status.name === 'BadOutOfRange'
        ? 'BadValue'
        : 'Exception';
  const hex = `0x${(status.value >>> 0).toString(16).padStart(8, '0')}`;
  return {
    code,
    message: `point "${name}": ${what} failed with ${status.name} (${hex})${status.description ? `: ${status.description}` : ''}`,
    detail: { status: status.name, statusCode: status.value >>> 0 },
  };
}

/** The parts of a node-opcua DataValue this driver looks at. */
export interface DataValueLike {
  readonly statusCode: StatusLike;
  readonly value: { readonly dataType: number; readonly value: unknown };
  readonly sourceTimestamp?: Date | null;
  readonly serverTimestamp?: Date | null;
}

/**
 * The read result of one point from a DataValue: Bad status = bad with the status name,
 * Uncertain = uncertain with the value, a value of the wrong type = bad `BadValue`.
 * `ts` is the source timestamp, else the server's, else `now`.
 */
export function resultOf(point: { readonly id: string; readonly name: string; readonly type: PointType }, dv: DataValueLike, now: number): ReadResult {
  const ts = dv.sourceTimestamp?.getTime() ?? dv.serverTimestamp?.getTime() ?? now;
  const q = severity(dv.statusCode);
  if (q === 'bad') return { id: point.id, quality: 'bad', error: statusError(point.name, dv.statusCode, 'read'), ts };
  const decoded = fromVariant(point.type, dv.value.dataType, dv.value.value);
  if (!decoded.ok) return { id: point.id, quality: 'bad', error: { code: 'BadValue', message: `point "${point.name}": ${decoded.message}` }, ts };
  return { id: point.id, quality: q, value: decoded.value, ts };
}
