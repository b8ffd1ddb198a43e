/**
 * Accounting of per-device cloud streams (docs/cloud-protocol.md: `epoch` per gateway run, `seq`
 * from 1 per device and epoch). Pure: arrivals and stored rows in, counters out.
 *
 * - **delivered**: positions that arrived at least once.
 * - **duplicate**: an arrival at a position already delivered. QoS 1 allows one only as a resend
 *   of the same bytes in a later session (a reconnect of the cloud link or a new gateway run); any
 *   other is counted in `badDuplicates`.
 * - **stored**: every delivered position (the outbox is the only way up), every row found in the
 *   SQLite file, and every seq below a delivered seq of the same epoch (rows commit in seq order).
 * - **lost** = stored − delivered.
 * - **out of order**: a new position that arrives after a higher one of the same device.
 */

/** What the accounting needs of an arrival (see cloud-tap.ts). */
export interface StreamArrival {
  readonly device: string;
  readonly epoch: number;
  readonly seq: number;
  readonly payload: string;
  readonly session: string;
  readonly properties: Record<string, unknown>;
  readonly metadata: Record<string, { quality: string }>;
}

/** What it needs of a stored row (see outbox-file.ts). */
export interface StreamRow {
  readonly device: string;
  readonly epoch: number;
  readonly seq: number;
}

/** Counters of one device. */
export interface StreamCounters {
  delivered: number;
  duplicates: number;
  /** Duplicates that are not QoS 1 resends (different bytes, or the same session). */
  badDuplicates: number;
  outOfOrder: number;
  stored: number;
  lost: number;
  /** Up to 10 lost positions, `epoch/seq`, for the failure message. */
  lostSample: string[];
  /** Values of `valueKey` in delivered reports of good quality, in arrival order (a bad-quality report repeats the last value). */
  values: number[];
  /** Reports whose `valueKey` is lower than or equal to the one delivered before. */
  valueOrderViolations: number;
  epochs: number[];
}

const pos = (epoch: number, seq: number): string => `${epoch}/${seq}`;

/** Counts one device's stream; `valueKey` names the counter attribute whose order is checked. */
export function accountStream(device: string, arrivals: readonly StreamArrival[], storedRows: readonly StreamRow[], valueKey: string): StreamCounters {
  const first = new Map<string, StreamArrival>();
  const c: StreamCounters = { delivered: 0, duplicates: 0, badDuplicates: 0, outOfOrder: 0, stored: 0, lost: 0, lostSample: [], values: [], valueOrderViolations: 0, epochs: [] };
  let last: { epoch: number; seq: number } | undefined;
  for (const a of arrivals) {
    if (a.device !== device) continue;
    const k = pos(a.epoch, a.seq);
    const orig = first.get(k);
    if (orig !== undefined) {
      c.duplicates++;
      if (orig.payload !== a.payload || orig.session === a.session) c.badDuplicates++;
      continue;
    }
    first.set(k, a);
    c.delivered++;
    if (last !== undefined && (a.epoch < last.epoch || (a.epoch === last.epoch && a.seq < last.seq))) c.outOfOrder++;
    else last = { epoch: a.epoch, seq: a.seq };
    const v = a.properties[valueKey];
    if (typeof v === 'number' && a.metadata[valueKey]?.quality === 'good') {
      const prev = c.values[c.values.length - 1];
      if (prev !== undefined && v <= prev) c.valueOrderViolations++;
      c.values.push(v);
    }
  }
  const stored = new Set<string>(first.keys());
  const maxSeq = new Map<number, number>();
  for (const a of first.values()) maxSeq.set(a.epoch, Math.max(maxSeq.get(a.epoch) ?? 0, a.seq));
  for (const r of storedRows) {
    if (r.device !== device) continue;
    stored.add(pos(r.epoch, r.seq));
    maxSeq.set(r.epoch, Math.max(maxSeq.get(r.epoch) ?? 0, r.seq));
  }
  for (const [epoch, max] of maxSeq) for (let s = 1; s <= max; s++) stored.add(pos(epoch, s));
  c.epochs = [...maxSeq.keys()].sort((a, b) => a - b);
  c.stored = stored.size;
  for (const k of stored) {
    if (first.has(k)) continue;
    c.lost++;
    if (c.lostSample.length < 10) c.lostSample.push(k);
  }
  return c;
}
