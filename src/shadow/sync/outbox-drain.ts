/**
 * Drains the durable outbox to the cloud link: rows go out in seq order, at most `maxInFlight`
 * QoS 1 publishes await their PUBACK at once, the send rate is capped by a token bucket, and a row
 * is deleted from the outbox only once it and every row before it has been acknowledged (so a
 * crash can only cause a resend, never a loss).
 *
 * After a reconnect (or a failed publish) the drain starts a new generation from the oldest row not
 * yet acknowledged. Publishes of the old generation may still complete (mqtt.js resends its in-flight
 * QoS 1 packets); their PUBACKs count, and a row already acknowledged that way is not sent again.
 * So a row may reach the cloud twice across a reconnect (QoS 1), never zero times.
 */
import type { OutboxEntry, ShadowStore } from '../store-api.ts';

/** Timers the drain needs; real ones by default. */
export interface DrainTimers {
  /** Monotonic milliseconds. */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What the drain is given. */
export interface DrainOptions {
  readonly store: Pick<ShadowStore, 'peek' | 'ackUpTo'>;
  /** Publishes one row; resolves on PUBACK (QoS 1) or once written (QoS 0); rejects if it was not sent. */
  readonly send: (entry: OutboxEntry) => Promise<void>;
  readonly isOnline: () => boolean;
  readonly ratePerSec: number;
  readonly maxInFlight: number;
  readonly timers: DrainTimers;
  /** Called for every row confirmed (acknowledged) with its size in bytes (topic + payload). */
  readonly onConfirmed?: (seq: number, bytes: number) => void;
  /** Called when a publish fails, with the error. */
  readonly onSendError?: (err: unknown) => void;
  /**
   * Called when deleting acknowledged rows fails (disk full: SQLite needs room even to delete).
   * The rows stay and the delete is tried again later; at worst they are sent again after a
   * restart, which QoS 1 allows.
   */
  readonly onAckError?: (err: unknown) => void;
}

/** Counters of the drain. */
export interface DrainCounters {
  /** Publishes handed to the link (resends included). */
  sent: number;
  /** Rows confirmed: acknowledged by the link and, with every row before them, released for deletion. */
  acked: number;
  /** Publishes of the current generation awaiting their acknowledgement. */
  inFlight: number;
  /** Generations started by reconnects or failed publishes. */
  restarts: number;
}

interface Slot {
  readonly seq: number;
  readonly bytes: number;
  done: boolean;
}

/** Rows read from the outbox at once. */
const PEEK_BATCH = 512;
/** Deletes of acknowledged rows are gathered for this long into one `ackUpTo`. */
const ACK_DELAY_MS = 5;
/** Pause before retrying after a failed publish while the link says it is online. */
const RETRY_MS = 1000;

/** Size of an outbox row as the byte bound counts it. */
export function entryBytes(e: Pick<OutboxEntry, 'topic' | 'payload'>): number {
  return Buffer.byteLength(e.topic, 'utf8') + e.payload.length;
}

/** The outbox drain; see the file comment. */
export class OutboxDrain {
  readonly counters: DrainCounters = { sent: 0, acked: 0, inFlight: 0, restarts: 0 };
  private gen = 0;
  /** Highest seq handed to the link in this generation (or skipped). */
  private cursor = 0;
  /** Highest seq confirmed; everything at or below it may be deleted. */
  private confirmed = 0;
  /** Highest seq deleted from the outbox. */
  private deleted = 0;
  private buffer: OutboxEntry[] = [];
  private bufferAt = 0;
  /** No more rows after `cursor` at the last peek: wait for `kick()`. */
  private exhausted = false;
  private window: Slot[] = [];
  private windowAt = 0;
  /** Seqs acknowledged by an older generation, not yet confirmed in order. */
  private readonly doneEarly = new Set<number>();
  private tokens: number;
  private lastRefill: number;
  private pumpTimer: unknown;
  private ackTimer: unknown;
  private retryTimer: unknown;
  private stopped = false;

  constructor(private readonly o: DrainOptions) {
    this.tokens = this.burst();
    this.lastRefill = o.timers.monotonic();
  }

  /** Highest seq confirmed so far. */
  get confirmedSeq(): number {
    return this.confirmed;
  }

  /** New rows may be visible, or the link came online: send what can be sent. */
  kick(): void {
    this.exhausted = false;
    this.pump();
  }

  /** Starts a new generation from the oldest unconfirmed row (after a reconnect). */
  restart(): void {
    if (this.stopped) return;
    if (this.retryTimer !== undefined) this.o.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.gen++;
    this.counters.restarts++;
    // Slots already acknowledged but waiting for an older one stay acknowledged.
    for (let i = this.windowAt; i < this.window.length; i++) {
      const s = this.window[i] as Slot;
      if (s.done) this.doneEarly.add(s.seq);
    }
    this.window = [];
    this.windowAt = 0;
    this.counters.inFlight = 0;
    this.cursor = this.confirmed;
    this.buffer = [];
    this.bufferAt = 0;
    this.exhausted = false;
    this.pump();
  }

  /** Rows up to `seq` were removed from the outbox by the bound: never send them. */
  skipTo(seq: number): void {
    this.applyAcks();
    if (seq > this.deleted) this.deleted = seq;
    if (seq > this.cursor) {
      this.cursor = seq;
      this.buffer = [];
      this.bufferAt = 0;
    }
    for (const s of this.doneEarly) if (s <= seq) this.doneEarly.delete(s);
  }

  /** Deletes every confirmed row now (before the bound scans the outbox). Never throws. */
  applyAcks(): void {
    if (this.ackTimer !== undefined) {
      this.o.timers.clearTimeout(this.ackTimer);
      this.ackTimer = undefined;
    }
    if (this.confirmed > this.deleted) {
      try {
        this.o.store.ackUpTo(this.confirmed);
        this.deleted = this.confirmed;
      } catch (e) {
        // Runs from a timer: a throw here would be an uncaught exception. Keep the rows, retry.
        this.o.onAckError?.(e);
        if (!this.stopped) {
          this.ackTimer = this.o.timers.setTimeout(() => {
            this.ackTimer = undefined;
            if (!this.stopped) this.applyAcks();
          }, RETRY_MS);
        }
      }
    }
  }

  /** Stops sending; deletes what is confirmed. Publishes still in flight are left to the link. */
  stop(): void {
    if (this.stopped) return;
    this.applyAcks();
    this.stopped = true;
    for (const t of [this.pumpTimer, this.retryTimer, this.ackTimer]) if (t !== undefined) this.o.timers.clearTimeout(t);
    this.pumpTimer = this.retryTimer = this.ackTimer = undefined;
  }

  private burst(): number {
    // A tenth of a second of sending at once, so that timers fire at most ~10 times a second.
    return Math.max(1, this.o.ratePerSec / 10);
  }

  private refill(): void {
    const now = this.o.timers.monotonic();
    this.tokens = Math.min(this.burst(), this.tokens + ((now - this.lastRefill) * this.o.ratePerSec) / 1000);
    this.lastRefill = now;
  }

  private pump(): void {
    if (this.stopped || this.pumpTimer !== undefined || this.retryTimer !== undefined || !this.o.isOnline()) return;
    this.refill();
    while (this.counters.inFlight < this.o.maxInFlight) {
      if (this.tokens < 1) {
        const wait = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.o.ratePerSec));
        this.pumpTimer = this.o.timers.setTimeout(() => {
          this.pumpTimer = undefined;
          this.pump();
        }, wait);
        return;
      }
      const row = this.next();
      if (row === undefined) return;
      this.tokens -= 1;
      this.cursor = row.seq;
      const slot: Slot = { seq: row.seq, bytes: entryBytes(row), done: false };
      this.window.push(slot);
      if (this.doneEarly.delete(row.seq)) {
        // An older generation's publish of this row was acknowledged: no need to send it again.
        slot.done = true;
        this.release();
        continue;
      }
      this.sendSlot(row, slot);
    }
  }

  private sendSlot(row: OutboxEntry, slot: Slot): void {
    const gen = this.gen;
    this.counters.inFlight++;
    this.counters.sent++;
    this.o.send(row).then(
      () => {
        if (gen !== this.gen) {
          if (row.seq > this.confirmed) this.doneEarly.add(row.seq);
          return;
        }
        this.counters.inFlight--;
        slot.done = true;
        this.release();
        this.pump();
      },
      (err: unknown) => {
        if (gen !== this.gen || this.stopped) return;
        this.counters.inFlight--;
        this.o.onSendError?.(err);
        // Start over from the oldest unconfirmed row, after a pause (the link may still claim online).
        if (this.retryTimer === undefined) {
          this.retryTimer = this.o.timers.setTimeout(() => {
            this.retryTimer = undefined;
            this.restart();
          }, RETRY_MS);
        }
      },
    );
  }

  /** Confirms acknowledged slots from the front of the window, in order, and schedules the delete. */
  private release(): void {
    let moved = false;
    while (this.windowAt < this.window.length) {
      const s = this.window[this.windowAt] as Slot;
      if (!s.done) break;
      this.windowAt++;
      if (s.seq > this.confirmed) {
        this.confirmed = s.seq;
        this.counters.acked++;
        if (s.seq > this.deleted) this.o.onConfirmed?.(s.seq, s.bytes);
        moved = true;
      }
    }
    if (this.windowAt > 1024 && this.windowAt * 2 > this.window.length) {
      this.window = this.window.slice(this.windowAt);
      this.windowAt = 0;
    }
    if (moved && this.ackTimer === undefined) {
      this.ackTimer = this.o.timers.setTimeout(() => {
        this.ackTimer = undefined;
        if (!this.stopped) this.applyAcks();
      }, ACK_DELAY_MS);
    }
  }

  private next(): OutboxEntry | undefined {
    if (this.bufferAt >= this.buffer.length) {
      if (this.exhausted) return undefined;
      this.buffer = this.o.store.peek(PEEK_BATCH, this.cursor);
      this.bufferAt = 0;
      if (this.buffer.length === 0) {
        this.exhausted = true;
        return undefined;
      }
    }
    return this.buffer[this.bufferAt++];
  }
}
