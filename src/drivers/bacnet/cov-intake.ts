/**
 * Where a session's COV notifications wait between the socket and the subscriptions: at most one
 * per subscription (per subscriber process id, which the session gives each (device, object) it
 * subscribes), so the memory held here is bounded by the number of subscriptions, whatever the
 * devices send.
 *
 * - A notification replaces the one still waiting for the same subscription (counted as
 *   `coalesced`): a property report only needs the latest present-value and status flags.
 * - Notifications for no subscription of this session are dropped and counted (`unknown`).
 * - Waiting notifications are decoded and delivered together: on the next turn of the event loop
 *   when the last delivery is at least the gap ago, else when the gap is over (one `setImmediate`
 *   or one timer per batch, never one per notification). A lone change is delivered at once;
 *   under a flood each object's notifications within a gap collapse into its latest. Each
 *   subscription gets one `covBatchEnd` per batch, so it hands the gateway one batch per device.
 * - The gap adapts to load: {@link MIN_DELIVERY_GAP_MS} while deliveries run when they are due;
 *   doubled (up to {@link MAX_DELIVERY_GAP_MS}) when a delivery ran later than a gap after it
 *   was due (the process is overloaded or starved of CPU), halved again once they run on time.
 *   So an overloaded gateway hands on at most one value per object and gap, always the latest,
 *   instead of falling further behind with stale ones.
 * - Datagrams are kept raw until delivery: only the latest of a burst is ever decoded.
 *
 * Answers to the session's own requests do not wait here: the transport hands them to the
 * library at once, so a ReadProperty is answered even while notifications pour in.
 */
import type { Clock, DriverMetrics } from '../sdk/index.ts';
import type { CovPayload } from './cov.ts';

/**
 * Least time between two deliveries of one session (ms). Short against the gateway's own 20 ms
 * gathering of pushed values, long enough that a flood is decoded once per object per gap.
 */
export const MIN_DELIVERY_GAP_MS = 10;
/** Longest gap between two deliveries under overload (ms): values are at most this much coarser. */
export const MAX_DELIVERY_GAP_MS = 1000;

/** Decodes the COVNotification parameters (§13.1.2) of a datagram; `undefined` when malformed. */
export type CovDecode = (buffer: Buffer, offset: number, length: number) => CovPayload | undefined;

/** A subscription as the intake sees it. */
export interface CovTarget {
  /** One notification of the subscription registered under `processId` (the latest one waiting). */
  covNotified(processId: number, payload: CovPayload): void;
  /** Called once per delivery batch in which this target got notifications. */
  covBatchEnd(): void;
}

/** Counters of the intake (cumulative, except `pending` and `subscriptions`). */
export interface CovIntakeStats {
  /** Notifications received (each datagram once). */
  received: number;
  /** Decoded and handed to a subscription. */
  delivered: number;
  /** Replaced by a newer notification of the same subscription before delivery (dropped). */
  coalesced: number;
  /** For no subscription of this session (dropped). */
  unknown: number;
  /** Could not be decoded (dropped). */
  malformed: number;
  /** SimpleACKs sent for confirmed notifications. */
  acked: number;
  /** Delivery batches run. */
  batches: number;
  /** Waiting for the next delivery now (never more than `subscriptions`). */
  pending: number;
  /** The most that ever waited at once. */
  maxPending: number;
  /** Subscriptions registered now. */
  subscriptions: number;
  /** The gap between deliveries now (ms): {@link MIN_DELIVERY_GAP_MS} unless overloaded. */
  gapMs: number;
  /**
   * Datagrams the kernel dropped on this socket because the process did not read them in time
   * (any kind, not only notifications); `undefined` where the system does not tell.
   */
  socketDrops: number | undefined;
}

/** Least time between two reads of the kernel's drop counter (ms). */
const SOCKET_DROPS_EVERY_MS = 1000;

interface Slot {
  readonly processId: number;
  readonly target: CovTarget;
  registered: boolean;
  waiting: boolean;
  /** The latest raw notification, or an already decoded one (from the library's path). */
  buffer: Buffer | undefined;
  offset: number;
  length: number;
  payload: CovPayload | undefined;
}

/** The per-session COV queue; see the file comment. */
export class CovIntake {
  readonly #decode: CovDecode;
  readonly #clock: Clock;
  readonly #metrics: DriverMetrics;
  readonly #onError: (e: unknown) => void;
  readonly #socketDrops: () => number | undefined;
  #socketDropsSeen: number | undefined;
  #socketDropsAt = Number.NEGATIVE_INFINITY;
  readonly #slots = new Map<number, Slot>();
  /** Slots with a notification waiting, in arrival order of their first one. */
  #queue: Slot[] = [];
  #spare: Slot[] = [];
  readonly #touched = new Set<CovTarget>();
  /** The pending delivery: an immediate, or a clock timer while the last delivery is recent. */
  #scheduled: { kind: 'immediate'; handle: NodeJS.Immediate } | { kind: 'timer'; handle: unknown } | undefined;
  #lastDelivery = Number.NEGATIVE_INFINITY;
  /** When the pending delivery was due (monotonic ms), to tell how late it ran. */
  #dueAt = 0;
  #gap = MIN_DELIVERY_GAP_MS;
  #closed = false;
  readonly #stats: Omit<CovIntakeStats, 'socketDrops' | 'gapMs'> = { received: 0, delivered: 0, coalesced: 0, unknown: 0, malformed: 0, acked: 0, batches: 0, pending: 0, maxPending: 0, subscriptions: 0 };
  /** Counters already reported to `metrics`. */
  readonly #reported = { delivered: 0, coalesced: 0, unknown: 0, malformed: 0 };
  readonly #flush = () => this.#deliver();

  /** `socketDrops` reads the kernel's drop counter of the socket (see UdpTransport.receiveDrops). */
  constructor(decode: CovDecode, clock: Clock, metrics: DriverMetrics, onError: (e: unknown) => void, socketDrops: () => number | undefined = () => undefined) {
    this.#decode = decode;
    this.#socketDrops = socketDrops;
    this.#clock = clock;
    this.#metrics = metrics;
    this.#onError = onError;
  }

  /** A snapshot of the counters. */
  get stats(): CovIntakeStats {
    return { ...this.#stats, pending: this.#queue.length, subscriptions: this.#slots.size, socketDrops: this.#socketDrops(), gapMs: this.#gap };
  }

  /** Routes notifications for `processId` to `target`; returns the unregister function. */
  register(processId: number, target: CovTarget): () => void {
    const slot: Slot = { processId, target, registered: true, waiting: false, buffer: undefined, offset: 0, length: 0, payload: undefined };
    const old = this.#slots.get(processId);
    if (old !== undefined) old.registered = false;
    this.#slots.set(processId, slot);
    return () => {
      slot.registered = false;
      slot.buffer = undefined;
      slot.payload = undefined;
      if (this.#slots.get(processId) === slot) this.#slots.delete(processId);
    };
  }

  /** Counts a SimpleACK sent by the transport path. */
  acked(): void {
    this.#stats.acked++;
  }

  /** A notification whose headers could not be read (dropped). */
  malformed(): void {
    this.#stats.received++;
    this.#stats.malformed++;
    if (!this.#closed) this.#schedule();
  }

  /** A raw notification: service parameters at `offset`, `length` octets. */
  offerRaw(processId: number, buffer: Buffer, offset: number, length: number): void {
    const slot = this.#admit(processId);
    if (slot === undefined) return;
    slot.buffer = buffer;
    slot.offset = offset;
    slot.length = length;
    slot.payload = undefined;
  }

  /** A notification the library already decoded (routed or forwarded datagrams). */
  offerDecoded(payload: CovPayload): void {
    const slot = this.#admit(payload.subscriberProcessId);
    if (slot === undefined) return;
    slot.buffer = undefined;
    slot.payload = payload;
  }

  /** Drops what waits and stops delivering. */
  close(): void {
    this.#closed = true;
    if (this.#scheduled?.kind === 'immediate') clearImmediate(this.#scheduled.handle);
    else if (this.#scheduled?.kind === 'timer') this.#clock.clearTimeout(this.#scheduled.handle);
    this.#scheduled = undefined;
    for (const s of this.#queue) {
      s.waiting = false;
      s.buffer = undefined;
      s.payload = undefined;
    }
    this.#queue = [];
    this.#slots.clear();
  }

  #admit(processId: number): Slot | undefined {
    this.#stats.received++;
    if (this.#closed) return undefined;
    const slot = this.#slots.get(processId);
    if (slot === undefined) {
      this.#stats.unknown++;
      this.#schedule(); // reports the drop to the metrics
      return undefined;
    }
    if (slot.waiting) {
      this.#stats.coalesced++;
      return slot;
    }
    slot.waiting = true;
    this.#queue.push(slot);
    if (this.#queue.length > this.#stats.maxPending) this.#stats.maxPending = this.#queue.length;
    this.#schedule();
    return slot;
  }

  #schedule(): void {
    if (this.#scheduled !== undefined || this.#closed) return;
    const now = this.#clock.monotonic();
    const wait = this.#lastDelivery + this.#gap - now;
    this.#dueAt = now + Math.max(0, wait);
    this.#scheduled = wait <= 0 ? { kind: 'immediate', handle: setImmediate(this.#flush) } : { kind: 'timer', handle: this.#clock.setTimeout(this.#flush, wait) };
  }

  #deliver(): void {
    this.#scheduled = undefined;
    const now = this.#clock.monotonic();
    this.#lastDelivery = now;
    const late = now - this.#dueAt;
    if (late > this.#gap) this.#gap = Math.min(MAX_DELIVERY_GAP_MS, this.#gap * 2);
    else if (late < this.#gap / 2) this.#gap = Math.max(MIN_DELIVERY_GAP_MS, this.#gap / 2);
    const batch = this.#queue;
    // Notifications that arrive while this batch is delivered wait for the next one.
    this.#queue = this.#spare;
    this.#spare = batch;
    this.#stats.batches++;
    for (const slot of batch) {
      slot.waiting = false;
      const { buffer, payload } = slot;
      slot.buffer = undefined;
      slot.payload = undefined;
      if (!slot.registered) continue;
      let p = payload;
      if (p === undefined && buffer !== undefined) {
        try {
          p = this.#decode(buffer, slot.offset, slot.length);
        } catch {
          p = undefined; // the library's decoders throw on some truncated values
        }
      }
      if (p === undefined) {
        this.#stats.malformed++;
        continue;
      }
      this.#stats.delivered++;
      this.#touched.add(slot.target);
      try {
        slot.target.covNotified(slot.processId, p);
      } catch (e) {
        this.#onError(e);
      }
    }
    batch.length = 0;
    for (const t of this.#touched) {
      try {
        t.covBatchEnd();
      } catch (e) {
        this.#onError(e);
      }
    }
    this.#touched.clear();
    this.#report();
  }

  /** Adds what changed since the last batch to the driver metrics (one call per outcome, not per notification). */
  #report(): void {
    for (const k of ['delivered', 'coalesced', 'unknown', 'malformed'] as const) {
      const d = this.#stats[k] - this.#reported[k];
      if (d > 0) this.#metrics.count('bacnet_cov_notifications_total', { outcome: k }, d);
      this.#reported[k] = this.#stats[k];
    }
    // What the kernel dropped before we could read it, at most once a second.
    const now = this.#clock.monotonic();
    if (now - this.#socketDropsAt < SOCKET_DROPS_EVERY_MS) return;
    this.#socketDropsAt = now;
    const drops = this.#socketDrops();
    if (drops === undefined) return;
    if (this.#socketDropsSeen !== undefined && drops > this.#socketDropsSeen) this.#metrics.count('bacnet_socket_drops_total', {}, drops - this.#socketDropsSeen);
    this.#socketDropsSeen = drops;
  }
}
