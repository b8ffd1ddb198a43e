/**
 * The outbox bound in bytes, age and rows, on top of the store's own row bound. When the cloud is
 * away long enough for the outbox to pass a bound, the oldest rows are dropped, whatever they are
 * (telemetry ages; its value is in being recent). The latest state is never lost that way: it lives
 * in the shadows table, and the caller re-sends the full shadow of every device that lost a row.
 */
import type { ShadowStore } from '../store-api.ts';
import { entryBytes } from './outbox-drain.ts';
import { deviceOfTopic } from './protocol.ts';

/** Limits; an absent one is not enforced here. */
export interface OutboxLimits {
  /** Total bytes (topic + payload) of the rows waiting. */
  readonly maxBytes?: number;
  /** Age of the oldest row, in ms. */
  readonly maxAgeMs?: number;
  /** Rows waiting (set it below the store's `outboxMax` to have the drop handled here). */
  readonly maxRows?: number;
}

/** What one enforcement dropped. */
export interface BoundDrop {
  readonly rows: number;
  readonly bytes: number;
  /** Highest seq dropped. */
  readonly upTo: number;
  /** Devices that lost at least one message. */
  readonly devices: ReadonlySet<string>;
  /** The first limit found exceeded. */
  readonly reason: 'bytes' | 'age' | 'rows';
}

const SCAN_BATCH = 1000;

/** Byte accounting and enforcement of {@link OutboxLimits}. */
export class OutboxBound {
  /** Bytes of the rows waiting (committed and pending), as far as known. */
  bytes = 0;
  private stale = true;

  constructor(
    private readonly store: Pick<ShadowStore, 'peek' | 'ackUpTo' | 'stats'>,
    private readonly limits: OutboxLimits,
    private readonly now: () => number,
  ) {}

  /** True when any limit is set. */
  get active(): boolean {
    return this.limits.maxBytes !== undefined || this.limits.maxAgeMs !== undefined || this.limits.maxRows !== undefined;
  }

  /** A row was appended. */
  appended(bytes: number): void {
    this.bytes += bytes;
  }

  /** A row was confirmed by the drain (and will be deleted). */
  confirmed(bytes: number): void {
    this.bytes = Math.max(0, this.bytes - bytes);
  }

  /** Rows left the outbox in a way not accounted for (the store's own bound): count again before the next check. */
  invalidate(): void {
    this.stale = true;
  }

  /** Sums the sizes of every committed row plus `pendingBytes` (rows appended but not yet visible). */
  recount(pendingBytes = 0): void {
    let total = 0;
    let after = 0;
    for (;;) {
      const rows = this.store.peek(SCAN_BATCH, after);
      for (const r of rows) total += entryBytes(r);
      const last = rows.at(-1);
      if (last === undefined || rows.length < SCAN_BATCH) break;
      after = last.seq;
    }
    this.bytes = total + pendingBytes;
    this.stale = false;
  }

  /**
   * Drops the oldest committed rows until every limit holds (or no committed row is left). The
   * caller must have deleted the rows it has confirmed first, so that they are not counted twice.
   */
  enforce(pendingBytes: number): BoundDrop | undefined {
    if (!this.active) return undefined;
    if (this.stale) this.recount(pendingBytes);
    const { maxBytes, maxAgeMs, maxRows } = this.limits;
    let rows = this.store.stats().outbox.size;
    const cutoff = maxAgeMs === undefined ? -Infinity : this.now() - maxAgeMs;
    const over = (createdAt: number): 'bytes' | 'age' | 'rows' | undefined => {
      if (maxBytes !== undefined && this.bytes > maxBytes) return 'bytes';
      if (maxRows !== undefined && rows > maxRows) return 'rows';
      if (createdAt < cutoff) return 'age';
      return undefined;
    };
    const first = this.store.peek(1)[0];
    if (first === undefined) return undefined;
    const reason = over(first.createdAt);
    if (reason === undefined) return undefined;

    const devices = new Set<string>();
    let dropped = 0;
    let droppedBytes = 0;
    let upTo = 0;
    let after = 0;
    scan: for (;;) {
      const batch = this.store.peek(SCAN_BATCH, after);
      for (const r of batch) {
        if (over(r.createdAt) === undefined) break scan;
        const size = entryBytes(r);
        this.bytes -= size;
        droppedBytes += size;
        rows--;
        dropped++;
        upTo = r.seq;
        const d = deviceOfTopic(r.topic);
        if (d !== undefined) devices.add(d);
      }
      const last = batch.at(-1);
      if (last === undefined || batch.length < SCAN_BATCH) break;
      after = last.seq;
    }
    if (dropped === 0) return undefined;
    this.store.ackUpTo(upTo);
    if (this.bytes < 0) this.bytes = 0;
    return { rows: dropped, bytes: droppedBytes, upTo, devices, reason };
  }
}
