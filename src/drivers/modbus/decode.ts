/**
 * Turns the data of one read response into one result per point of the block. Pure: the session
 * hands in what modbus-serial returned (booleans for FC1/FC2, 16-bit registers for FC3/FC4).
 */
import type { Point, PointError, PointValue, ReadResult } from '../sdk/index.ts';
import { decodeNumberAt, decodeRegisters } from '../../devicemodel/codec/registers.ts';
import { pointSize } from './address.ts';
import type { ModbusAddress } from './address.ts';
import { isBitTable } from './plan.ts';
import type { ReadBlock } from './plan.ts';

/** A bad result for a point. */
export function badResult(id: string, error: PointError, ts?: number): ReadResult {
  return ts === undefined ? { id, quality: 'bad', error } : { id, quality: 'bad', error, ts };
}

/** Applies `scale` (a multiplier, Baetyl's `scale`) to numeric values; others pass through. */
export function applyScale(value: PointValue, scale: number | undefined): PointValue {
  if (scale === undefined) return value;
  if (typeof value === 'number') return value * scale;
  if (typeof value === 'bigint') return Number(value) * scale;
  return value;
}

/**
 * Decodes every point of `block` from `data`, which starts at `block.start`.
 * A short response or an undecodable value makes that point bad (`Protocol`); a NaN or infinite
 * float makes it bad (`BadValue`), since no consumer can use it as a measurement.
 */
export function decodeBlock(block: ReadBlock, data: ArrayLike<number | boolean>, ts: number): ReadResult[] {
  // A plain loop, and the message text only on the error paths: this runs for every point of
  // every poll, where a closure, a register array and a string per point were most of its cost.
  const bits = isBitTable(block.table);
  const points = block.points;
  const out: ReadResult[] = new Array(points.length);
  for (let k = 0; k < points.length; k++) {
    const { point, offset } = points[k]!;
    if (bits) {
      const v = data[offset];
      out[k] =
        typeof v === 'boolean'
          ? { id: point.id, quality: 'good', value: v, ts }
          : badResult(point.id, { code: 'Protocol', message: `response has ${data.length} bits; ${whereOf(block, point)} is missing` }, ts);
      continue;
    }
    const a = point.address;
    const size = pointSize(point);
    const fast = decodeNumberAt(data as ArrayLike<number>, offset, size, point.type, a.order, a.bit);
    out[k] =
      fast === undefined
        ? decodeSlow(block, point, offset, size, data, ts)
        : typeof fast === 'number' && !Number.isFinite(fast)
          ? badResult(point.id, { code: 'BadValue', message: `${whereOf(block, point)} holds ${fast} (${point.type}), not a finite number` }, ts)
          : { id: point.id, quality: 'good', value: applyScale(fast, a.scale), ts };
  }
  return out;
}

function whereOf(block: ReadBlock, point: Point<ModbusAddress>): string {
  return `${block.table} ${point.address.address}`;
}

/** Strings, and every point the fast path cannot decode: the full decoder, with its exact message. */
function decodeSlow(block: ReadBlock, point: Point<ModbusAddress>, offset: number, size: number, data: ArrayLike<number | boolean>, ts: number): ReadResult {
  const a = point.address;
  const regs: number[] = [];
  for (let i = offset; i < offset + size && i < data.length; i++) regs.push(Number(data[i]));
  const r = decodeRegisters(regs, point.type, a.order, {
    ...(a.bit !== undefined ? { bit: a.bit } : {}),
    encoding: a.encoding,
    ...(point.type === 'string' ? { quantity: size } : {}),
  });
  if (r.kind === 'incomplete') {
    return badResult(point.id, { code: 'Protocol', message: `response has ${data.length} registers; ${whereOf(block, point)} needs ${size} from offset ${offset}` }, ts);
  }
  if (r.kind === 'error') return badResult(point.id, { code: 'Protocol', message: `${whereOf(block, point)}: ${r.error}` }, ts);
  if (typeof r.value === 'number' && !Number.isFinite(r.value)) {
    return badResult(point.id, { code: 'BadValue', message: `${whereOf(block, point)} holds ${r.value} (${point.type}), not a finite number` }, ts);
  }
  return { id: point.id, quality: 'good', value: applyScale(r.value, a.scale), ts };
}
