/**
 * Read planning: which Modbus requests one poll makes. Pure (no I/O, no bytes), so that the
 * batching rules are tested by tables of address layouts.
 *
 * Rules:
 * - Points are grouped by table (coils, discrete inputs, holding, input registers): one request
 *   reads one table (Modbus Application Protocol V1.1b3 §6.1–6.4).
 * - Within a table, points sorted by address are merged while they overlap, touch, or leave a gap
 *   of at most `maxGap` unused registers/bits, and while the block stays within `maxRegisters`
 *   registers (FC3/FC4 allow 125, §6.3) or `maxBits` bits (FC1/FC2 allow 2000, §6.1).
 * - A point wider than the limit alone (a long string with a small `maxRegisters`) gets a block of
 *   its own size: it cannot be read in pieces.
 * - Points in `isolated` (addresses a device rejected inside a merged block) are read alone, and
 *   no block bridges over them.
 */
import type { Point } from '../sdk/index.ts';
import { pointSize } from './address.ts';
import type { ModbusAddress, Table } from './address.ts';

/** Limits of one read request (from the connection). */
export interface PlanLimits {
  /** Largest gap of unused registers/bits bridged when merging. */
  readonly maxGap: number;
  /** Most registers per FC3/FC4 request. */
  readonly maxRegisters: number;
  /** Most bits per FC1/FC2 request. */
  readonly maxBits: number;
}

/** One point inside a block, `offset` registers (or bits) after the block's start. */
export interface BlockPoint<P> {
  readonly point: P;
  readonly offset: number;
}

/** One read request: `count` registers (or bits) of `table` from `start`. */
export interface ReadBlock<P = Point<ModbusAddress>> {
  readonly table: Table;
  readonly start: number;
  readonly count: number;
  /** The points this request serves, in address order. */
  readonly points: readonly BlockPoint<P>[];
}

/** Output order of tables, so that plans are deterministic. */
const TABLE_ORDER: readonly Table[] = ['coil', 'discrete', 'holding', 'input'];

/** True for the single-bit tables (FC1/FC2). */
export function isBitTable(table: Table): boolean {
  return table === 'coil' || table === 'discrete';
}

interface Open<P> {
  start: number;
  end: number; // exclusive
  points: BlockPoint<P>[];
}

/**
 * Splits points into read requests. Every point appears in exactly one block. Blocks are ordered
 * by table (coil, discrete, holding, input), then by start address.
 */
export function planReads<P extends Point<ModbusAddress>>(
  points: readonly P[],
  limits: PlanLimits,
  isolated: ReadonlySet<string> = new Set(),
): ReadBlock<P>[] {
  const out: ReadBlock<P>[] = [];
  for (const table of TABLE_ORDER) {
    const inTable = points
      .filter((p) => p.address.table === table)
      .map((p) => ({ p, start: p.address.address, size: pointSize(p) }))
      // Stable on equal addresses; the wider point first so the block end is known early.
      .sort((a, b) => a.start - b.start || b.size - a.size);
    const limit = isBitTable(table) ? limits.maxBits : limits.maxRegisters;
    let open: Open<P> | undefined;
    const flush = () => {
      if (open === undefined) return;
      out.push(close(table, open));
      open = undefined;
    };
    for (const { p, start, size } of inTable) {
      const end = start + size;
      if (isolated.has(p.id)) {
        // Read alone, and never bridged over: the block before it ends here, so that no request
        // covers its address (or the gap before it) again.
        flush();
        out.push({ table, start, count: size, points: [{ point: p, offset: 0 }] });
        continue;
      }
      if (open !== undefined && start - open.end <= limits.maxGap && Math.max(open.end, end) - open.start <= limit) {
        open.end = Math.max(open.end, end);
        open.points.push({ point: p, offset: start - open.start });
        continue;
      }
      flush();
      open = { start, end, points: [{ point: p, offset: 0 }] };
    }
    flush();
  }
  return out;
}

function close<P>(table: Table, open: Open<P>): ReadBlock<P> {
  return { table, start: open.start, count: open.end - open.start, points: open.points };
}

/**
 * The block that reads exactly the given points of one table (from the lowest address to the
 * end of the highest point), ignoring limits: used to re-read a subset of a failed block.
 */
export function blockOf<P extends Point<ModbusAddress>>(table: Table, points: readonly P[]): ReadBlock<P> {
  let start = Number.POSITIVE_INFINITY;
  let end = 0;
  for (const p of points) {
    start = Math.min(start, p.address.address);
    end = Math.max(end, p.address.address + pointSize(p));
  }
  const sorted = [...points].sort((a, b) => a.address.address - b.address.address);
  return { table, start, count: end - start, points: sorted.map((point) => ({ point, offset: point.address.address - start })) };
}
