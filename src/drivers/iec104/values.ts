/**
 * Pure conversions between IEC 104 information objects and the driver API's values:
 * monitoring objects → {@link ReadResult}, written values → command elements.
 *
 * Values by family, then coerced to the property's `type`:
 * - single point (1, 30) → bool; numeric types get 0/1.
 * - double point (3, 31) → bool types: on (DPI 2) = true, off (1) = false, intermediate (0) and
 *   indeterminate (3) are a bad result; numeric types get DPI 0..3 as is.
 * - step position (5, 32) → −64..63; bitstring (7, 33) → unsigned 32-bit number.
 * - normalized (9, 34) → float types get raw/32768 (−1..1); integer types get the raw int16.
 * - scaled (11, 35) → int16; short float (13, 36) → float32 value.
 * - integrated totals (15, 37) → the int32 counter reading.
 * Integer types round; a value outside the type's range is a `BadValue` result; `string` gets the
 * decimal text. Quality: IV → `bad` (code `Exception`); NT, SB, BL, OV or counter carry → `uncertain`;
 * otherwise `good`. `ts` is the object's CP56Time2a when it has a valid one, else the receive time.
 */
import type { PointError, PointType, PointValue, ReadResult } from '../sdk/index.ts';
import type { Element, QualityBits } from './codec/elements.ts';
import type { InfoObject } from './codec/asdu.ts';
import { cp56ToEpoch } from './codec/time.ts';
import { COMMAND_TYPES, MONITOR_TYPES, typeName } from './codec/types.ts';
import type { Family } from './codec/types.ts';

/** A monitoring object as the client keeps it. */
export interface HeldValue {
  readonly typeId: number;
  readonly object: InfoObject;
  /** Epoch ms when it arrived. */
  readonly receivedAt: number;
}

const INT_RANGES: Partial<Record<PointType, [number, number]>> = {
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

const bad = (id: string, code: PointError['code'], message: string, ts: number, detail?: PointError['detail']): ReadResult => ({
  id,
  quality: 'bad',
  error: detail === undefined ? { code, message } : { code, message, detail },
  ts,
});

/** The raw value and quality an element carries (monitoring elements only). */
function raw(el: Element, integerTarget: boolean): { value: number | boolean; quality: QualityBits; carry?: boolean } | undefined {
  switch (el.kind) {
    case 'single':
      return { value: el.value, quality: el.quality };
    case 'double':
    case 'step':
    case 'bitstring':
    case 'scaled':
    case 'float':
      return { value: el.value, quality: el.quality };
    case 'normalized':
      return { value: integerTarget ? el.raw : el.raw / 32768, quality: el.quality };
    case 'counter':
      return { value: el.value, quality: { invalid: el.invalid, notTopical: false, substituted: false, blocked: false, overflow: false }, carry: el.carry };
    default:
      return undefined;
  }
}

/**
 * Converts a held monitoring object into the result for a point of `type` that accepts
 * `families`; a family mismatch is a `Protocol` result naming both types.
 */
export function toReadResult(id: string, type: PointType, families: readonly Family[], held: HeldValue, timeOffset = 0): ReadResult {
  const info = MONITOR_TYPES.get(held.typeId);
  const t = held.object.time;
  const tagged = t === undefined || t.invalid ? undefined : cp56ToEpoch(t, timeOffset);
  const ts = tagged ?? held.receivedAt;
  if (info === undefined || !families.includes(info.family)) {
    return bad(id, 'Protocol', `IOA ${held.object.ioa}: expected ${families.join('/')} data, the station sent ${typeName(held.typeId)}`, ts, { typeId: held.typeId });
  }
  const integerTarget = INT_RANGES[type] !== undefined;
  const r = raw(held.object.element, integerTarget);
  if (r === undefined) return bad(id, 'Protocol', `IOA ${held.object.ioa}: ${typeName(held.typeId)} carries no value`, ts);
  const q = r.quality;
  if (q.invalid) return bad(id, 'Exception', `IOA ${held.object.ioa}: the station marks the value invalid (IV)`, ts, { iv: true, typeId: held.typeId });
  let value: PointValue;
  const v = r.value;
  if (type === 'bool') {
    if (info.family === 'double') {
      if (v !== 1 && v !== 2) return bad(id, 'Exception', `IOA ${held.object.ioa}: double point ${v === 0 ? 'intermediate' : 'indeterminate'} (DPI=${v})`, ts, { dpi: Number(v) });
      value = v === 2;
    } else {
      value = typeof v === 'boolean' ? v : v !== 0;
    }
  } else if (type === 'string') {
    value = String(v);
  } else {
    const n = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    const range = INT_RANGES[type];
    if (range !== undefined) {
      const i = Math.round(n);
      if (i < range[0] || i > range[1]) return bad(id, 'BadValue', `IOA ${held.object.ioa}: ${n} does not fit ${type}`, ts);
      value = type === 'int64' || type === 'uint64' ? BigInt(i) : i;
    } else {
      value = type === 'float32' ? Math.fround(n) : n;
    }
  }
  const uncertain = q.notTopical || q.substituted || q.blocked || q.overflow || r.carry === true;
  return { id, quality: uncertain ? 'uncertain' : 'good', value, ts };
}

/** A point never seen in interrogation or spontaneous data. */
export function notReceived(id: string, ioa: number, now: number): ReadResult {
  return bad(id, 'BadAddress', `IOA ${ioa}: no data received from the station (not in its interrogation response or spontaneous data)`, now, { ioa });
}

function num(v: PointValue): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

/**
 * Builds the element of command `commandType` for a written value; a string message when the
 * value does not fit. bool → single command on/off, double command on (2)/off (1), regulating
 * step higher (2)/lower (1). Numbers: setpoint normalized takes −1..1 (integer point types: the raw
 * int16), scaled an int16, float any finite number, bitstring a uint32. `select` sets S/E.
 */
export function toCommand(commandType: number, pointType: PointType, value: PointValue, select: boolean): Element | string {
  const fam = COMMAND_TYPES.get(commandType)?.family;
  const n = num(value);
  const name = typeName(commandType);
  const qualifier = 0;
  switch (fam) {
    case 'single':
      if (n === undefined || (n !== 0 && n !== 1)) return `${name} takes true/false or 1/0, got ${String(value)}`;
      return { kind: 'singleCommand', value: n === 1, qualifier, select };
    case 'double':
    case 'regulating': {
      const state = typeof value === 'boolean' ? (value ? 2 : 1) : n;
      if (state !== 1 && state !== 2) return `${name} takes true/false or 1 (${fam === 'double' ? 'off' : 'lower'}) / 2 (${fam === 'double' ? 'on' : 'higher'}), got ${String(value)}`;
      return fam === 'double' ? { kind: 'doubleCommand', value: state, qualifier, select } : { kind: 'regulatingCommand', value: state, qualifier, select };
    }
    case 'normalized': {
      if (n === undefined) return `${name} takes a number, got ${String(value)}`;
      const integer = INT_RANGES[pointType] !== undefined;
      const r = integer ? Math.round(n) : Math.round(n * 32768);
      if (r < -32768 || r > 32767) return `${name}: ${n} is outside ${integer ? '-32768..32767' : '-1..1'}`;
      return { kind: 'setpointNormalized', raw: r, qualifier, select };
    }
    case 'scaled': {
      if (n === undefined) return `${name} takes a number, got ${String(value)}`;
      const r = Math.round(n);
      if (r < -32768 || r > 32767) return `${name}: ${n} is outside -32768..32767`;
      return { kind: 'setpointScaled', value: r, qualifier, select };
    }
    case 'float':
      if (n === undefined) return `${name} takes a number, got ${String(value)}`;
      if (Math.abs(n) > 3.4028234663852886e38) return `${name}: ${n} does not fit a 32-bit float`;
      return { kind: 'setpointFloat', value: n, qualifier, select };
    case 'bitstring':
      if (n === undefined || !Number.isInteger(n) || n < 0 || n > 0xffffffff) return `${name} takes an integer 0..4294967295, got ${String(value)}`;
      return { kind: 'bitstringCommand', value: n };
    default:
      return `${name} is not a command type`;
  }
}

/** True when the command type has an S/E bit (all but the bitstring commands). */
export function canSelect(commandType: number): boolean {
  const fam = COMMAND_TYPES.get(commandType)?.family;
  return fam !== undefined && fam !== 'bitstring';
}
