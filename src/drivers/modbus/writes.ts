/**
 * What one point write sends: function code, address and data. Pure, so the choice of FC5/FC15/
 * FC6/FC16 and the encoding are tested without a socket (Modbus Application Protocol V1.1b3
 * §6.5 FC5, §6.6 FC6, §6.11 FC15, §6.12 FC16).
 */
import type { Point, PointError, PointValue } from '../sdk/index.ts';
import { encodeRegisters } from '../../devicemodel/codec/registers.ts';
import { pointSize } from './address.ts';
import type { ModbusAddress } from './address.ts';

/** A planned write. `fc: 6` with several registers means one FC6 per register, in order. */
export type WriteOp =
  | { readonly kind: 'coils'; readonly fc: 5 | 15; readonly address: number; readonly values: readonly boolean[] }
  | { readonly kind: 'registers'; readonly fc: 6 | 16; readonly address: number; readonly values: readonly number[] }
  /** A bit inside a holding register: read the register (FC3), then call `planWrite` again with `current`. */
  | { readonly kind: 'readModifyWrite'; readonly address: number };

/** Either the operation, or why the value cannot be written. */
export type WritePlan = { readonly kind: 'ok'; readonly op: WriteOp } | { readonly kind: 'error'; readonly error: PointError };

function fail(code: PointError['code'], message: string): WritePlan {
  return { kind: 'error', error: { code, message } };
}

/** The value to encode: divided by `scale` (the inverse of the read), rounded for integer types. */
export function unscale(value: PointValue, point: Point<ModbusAddress>): PointValue {
  const scale = point.address.scale;
  if (scale === undefined || (typeof value !== 'number' && typeof value !== 'bigint')) return value;
  const raw = Number(value) / scale;
  const isFloat = point.type === 'float32' || point.type === 'float64';
  // 23.5 / 0.1 is 234.99999999999997 in binary floating point; the register holds 235.
  return isFloat || !Number.isFinite(raw) ? raw : Math.round(raw);
}

/**
 * Plans a write of `value` to `point`. For a bit in a register, call first without `current`
 * (gives `readModifyWrite`), then again with the register's current value.
 */
export function planWrite(point: Point<ModbusAddress>, value: PointValue, current?: number): WritePlan {
  const a = point.address;
  if (a.table === 'discrete') return fail('Unsupported', `discrete input ${a.address} is read-only`);
  if (a.table === 'input') return fail('Unsupported', `input registers are read-only (input register ${a.address})`);
  if (a.table === 'coil') {
    const on = value === true || value === 1 || value === 1n ? true : value === false || value === 0 || value === 0n ? false : undefined;
    if (on === undefined) return fail('BadValue', `coil ${a.address} takes true/false (or 1/0), got ${JSON.stringify(String(value))}`);
    const fc = a.writeFunction === 15 ? 15 : 5;
    return { kind: 'ok', op: { kind: 'coils', fc, address: a.address, values: [on] } };
  }
  if (a.bit !== undefined && current === undefined) return { kind: 'ok', op: { kind: 'readModifyWrite', address: a.address } };
  const enc = encodeRegisters(unscale(value, point), point.type, a.order, {
    ...(a.bit !== undefined ? { bit: a.bit } : {}),
    ...(current !== undefined ? { current } : {}),
    encoding: a.encoding,
    ...(point.type === 'string' ? { quantity: pointSize(point) } : {}),
  });
  if (enc.kind === 'error') return fail('BadValue', `holding register ${a.address}: ${enc.error}`);
  const fc = a.writeFunction === 6 || a.writeFunction === 16 ? a.writeFunction : enc.value.length === 1 ? 6 : 16;
  return { kind: 'ok', op: { kind: 'registers', fc, address: a.address, values: enc.value } };
}
