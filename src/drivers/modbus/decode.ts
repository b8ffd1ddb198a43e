/**
 * Turns the data of one read response into one result per point of the block. Pure: the session
 * hands in what modbus-serial returned (booleans for FC1/FC2, 16-bit registers for FC3/FC4).
 */
import type { PointError, PointValue, ReadResult } from '../sdk/index.ts';
import { decodeRegisters } from '../../devicemodel/codec/registers.ts';
import { pointSize } from './address.ts';
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
  const bits = isBitTable(block.table);
  return block.points.map(({ point, offset }): ReadResult => {
    const a = point.address;
    const where = `${block.table} ${a.address}`;
    if (bits) {
      const v = data[offset];
      if (typeof v !== 'boolean') {
        return badResult(point.id, { code: 'Protocol', message: `response has ${data.length} bits; ${where} is missing` }, ts);
      }
      return { id: point.id, quality: 'good', value: v, ts };
    }
    const size = pointSize(point);
    const regs: number[] = [];
    for (let i = offset; i < offset + size && i < data.length; i++) regs.push(Number(data[i]));
    const r = decodeRegisters(regs, point.type, a.order, {
      ...(a.bit !== undefined ? { bit: a.bit } : {}),
      encoding: a.encoding,
      ...(point.type === 'string' ? { quantity: size } : {}),
    });
    if (r.kind === 'incomplete') {
      return badResult(point.id, { code: 'Protocol', message: `response has ${data.length} registers; ${where} needs ${size} from offset ${offset}` }, ts);
    }
    if (r.kind === 'error') return badResult(point.id, { code: 'Protocol', message: `${where}: ${r.error}` }, ts);
    if (typeof r.value === 'number' && !Number.isFinite(r.value)) {
      return badResult(point.id, { code: 'BadValue', message: `${where} holds ${r.value} (${point.type}), not a finite number` }, ts);
    }
    return { id: point.id, quality: 'good', value: applyScale(r.value, a.scale), ts };
  });
}
