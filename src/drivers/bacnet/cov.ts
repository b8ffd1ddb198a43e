/**
 * COV subscriptions of one device (ASHRAE 135 §13.14 SubscribeCOV): one subscription per object
 * whose present-value points ask for COV, renewed at 3/4 of the lifetime so that it never lapses,
 * notifications (confirmed or not) turned into read results for the sink. Points the device
 * refuses a subscription for (or that are not present-values) are polled at `cov.pollInterval`
 * and pushed when they change: the fallback.
 *
 * Notifications come from the session's queue (cov-intake.ts) in batches, at most one per object
 * per batch (the latest); the results of one batch go to the sink in one call, so the gateway
 * gets one push per device and event-loop turn instead of one per notification.
 */
import type { Clock, DeviceRef, Logger, Point, ReadResult, Subscription, SubscriptionSink } from '../sdk/index.ts';
import type { BacnetAddress, BacnetConnection } from './address.ts';
import { PROP } from './constants.ts';
import { pointError, toBacnetError } from './errors.ts';
import { objectKey } from './plan.ts';
import type { CovTarget } from './cov-intake.ts';
import { toResult } from './result.ts';
import type { AppData } from './values.ts';

type BPoint = Point<BacnetAddress>;
type Device = DeviceRef<BacnetConnection>;
type ObjectId = { type: number; instance: number };

/** A COV notification's parameters (§13.1.2), as @bacnet-js/client decodes them. */
export interface CovPayload {
  readonly subscriberProcessId: number;
  readonly initiatingDeviceId: number;
  readonly monitoredObjectId: ObjectId;
  readonly timeRemaining: number;
  readonly values: readonly { readonly property: { readonly id: number; readonly index?: number }; readonly value: readonly AppData[] }[];
}

/** What a subscription needs from its session. */
export interface CovHost {
  readonly clock: Clock;
  readonly log: Logger;
  nextProcessId(): number;
  /** Routes notifications for a process id to `target`; returns the unregister function. */
  onNotification(processId: number, target: CovTarget): () => void;
  subscribeCov(device: Device, objectId: ObjectId, processId: number, confirmed: boolean, lifetimeSec: number, cancel: boolean): Promise<void>;
  readPoints(device: Device, points: readonly BPoint[]): Promise<ReadResult[]>;
}

interface Entry {
  readonly objectId: ObjectId;
  readonly points: BPoint[];
  readonly processId: number;
  active: boolean;
  timer: unknown;
  unregister: () => void;
}

/** Whether a point wants COV: its `cov`, else the device's `subscribe`. */
export function wantsCov(p: BPoint, c: BacnetConnection): boolean {
  return p.address.cov ?? c.subscribe ?? false;
}

/** The subscriptions of one device; see the file comment. */
export class CovSubscription implements Subscription, CovTarget {
  readonly #host: CovHost;
  readonly #device: Device;
  readonly #points: readonly BPoint[];
  readonly #sink: SubscriptionSink;
  readonly #entries = new Map<string, Entry>();
  readonly #byProcess = new Map<number, Entry>();
  /** Results of the notification batch being delivered. */
  #batch: ReadResult[] = [];
  /** Points read by the fallback poll. */
  readonly #polled: BPoint[] = [];
  /** The last result pushed per point (fallback polls push only changes). */
  readonly #last = new Map<string, ReadResult>();
  #pollTimer: unknown;
  #stopped = false;
  /** Called once when the subscription stops (the session forgets it). */
  onClose: (() => void) | undefined;
  /** Renewals sent so far (for tests and metrics). */
  renewals = 0;

  constructor(host: CovHost, device: Device, points: readonly BPoint[], sink: SubscriptionSink) {
    this.#host = host;
    this.#device = device;
    this.#points = points;
    this.#sink = sink;
  }

  /** Ids of the points served by COV, and of those polled instead. */
  get coverage(): { cov: string[]; polled: string[] } {
    const cov = [...this.#entries.values()].filter((e) => e.active).flatMap((e) => e.points.map((p) => p.id));
    return { cov, polled: this.#polled.map((p) => p.id) };
  }

  #lifetimeMs(): number {
    return this.#device.connection.cov.lifetime;
  }

  /** Subscribes every object; refusals go to the fallback poll. Resolves when every object was tried. */
  async start(): Promise<void> {
    const c = this.#device.connection;
    const offset = c.addressOffset;
    for (const p of this.#points) {
      if (!wantsCov(p, c)) continue;
      if (p.address.propertyId !== PROP.presentValue || p.address.arrayIndex !== undefined) {
        this.#polled.push(p); // SubscribeCOV reports present-value and status-flags only (§13.1)
        continue;
      }
      const objectId = { type: p.address.objectType, instance: p.address.instance + offset };
      const k = objectKey({ objectType: objectId.type, instance: objectId.instance });
      const e = this.#entries.get(k);
      if (e) e.points.push(p);
      else this.#entries.set(k, { objectId, points: [p], processId: this.#host.nextProcessId(), active: false, timer: undefined, unregister: () => undefined });
    }
    for (const e of this.#entries.values()) {
      this.#byProcess.set(e.processId, e);
      e.unregister = this.#host.onNotification(e.processId, this);
      await this.#subscribe(e, true);
    }
    this.#schedulePoll();
  }

  async #subscribe(e: Entry, first: boolean): Promise<void> {
    if (this.#stopped) return;
    const c = this.#device.connection;
    const lifetimeSec = Math.max(1, Math.round(this.#lifetimeMs() / 1000));
    try {
      if (!first) this.renewals++;
      await this.#host.subscribeCov(this.#device, e.objectId, e.processId, c.cov.confirmed, lifetimeSec, false);
      e.active = true;
      this.#schedule(e, (lifetimeSec * 1000 * 3) / 4);
    } catch (err) {
      const de = toBacnetError(err);
      if (this.#stopped) return;
      if (de.code === 'Timeout' || de.code === 'Offline') {
        // No answer: try again soon; the subscription may still run on the device until it lapses.
        this.#sink.error(this.#device.name, { code: de.code, message: `SubscribeCOV ${e.objectId.type}:${e.objectId.instance}: ${de.message}` });
        this.#schedule(e, Math.min(this.#lifetimeMs() / 4, c.timeout * 2));
        if (first) this.#fallback(e);
        return;
      }
      // The device refuses COV for this object: poll it instead (§13.14.1.3.1 errors).
      this.#host.log.info({ device: this.#device.name, object: `${e.objectId.type}:${e.objectId.instance}`, code: de.code, error: de.message }, 'BACnet: COV refused; polling the object instead');
      e.active = false;
      e.unregister();
      this.#byProcess.delete(e.processId);
      this.#entries.delete(objectKey({ objectType: e.objectId.type, instance: e.objectId.instance }));
      this.#fallback(e);
    }
  }

  #fallback(e: Entry): void {
    for (const p of e.points) if (!this.#polled.includes(p)) this.#polled.push(p);
  }

  #schedule(e: Entry, ms: number): void {
    const { clock } = this.#host;
    clock.clearTimeout(e.timer);
    e.timer = clock.setTimeout(() => void this.#subscribe(e, false), ms);
  }

  /** One notification (the latest waiting for this object); see {@link CovTarget}. */
  covNotified(processId: number, payload: CovPayload): void {
    const e = this.#byProcess.get(processId);
    if (this.#stopped || e === undefined) return;
    // A point that went to the fallback poll after a failed first subscribe is served by COV again.
    if (!e.active) e.active = true;
    let pv: readonly AppData[] | undefined;
    let flags: readonly AppData[] | undefined;
    for (const v of payload.values) {
      if (v.property.id === PROP.presentValue) pv = v.value;
      else if (v.property.id === PROP.statusFlags) flags = v.value;
    }
    if (pv === undefined) return;
    if (!this.#device.connection.statusFlags) flags = undefined;
    const ts = this.#host.clock.now();
    for (const p of e.points) {
      const r = resultOf(p, pv, flags, ts);
      this.#last.set(r.id, r);
      this.#batch.push(r);
    }
  }

  /** The end of a notification batch: its results go to the sink in one call. */
  covBatchEnd(): void {
    if (this.#batch.length === 0) return;
    const results = this.#batch;
    this.#batch = [];
    if (!this.#stopped) this.#sink.values(this.#device.name, results);
  }

  #schedulePoll(): void {
    const interval = this.#device.connection.cov.pollInterval ?? this.#device.connection.interval;
    // Nothing subscribed and nothing to poll (no point asks for COV): no timer at all.
    if (this.#stopped || interval <= 0 || (this.#polled.length === 0 && this.#entries.size === 0)) return;
    this.#pollTimer = this.#host.clock.setTimeout(() => void this.#poll(interval), interval);
  }

  async #poll(interval: number): Promise<void> {
    const active = new Set([...this.#entries.values()].filter((e) => e.active).flatMap((e) => e.points.map((p) => p.id)));
    const points = this.#polled.filter((p) => !active.has(p.id));
    if (points.length > 0 && !this.#stopped) {
      try {
        const results = await this.#host.readPoints(this.#device, points);
        const changed = results.filter((r) => {
          const last = this.#last.get(r.id);
          return last === undefined || fingerprint(last) !== fingerprint(r);
        });
        for (const r of changed) this.#last.set(r.id, r);
        if (changed.length > 0 && !this.#stopped) this.#sink.values(this.#device.name, changed);
      } catch (err) {
        if (!this.#stopped) this.#sink.error(this.#device.name, pointError(toBacnetError(err)));
      }
    }
    if (!this.#stopped) this.#pollTimer = this.#host.clock.setTimeout(() => void this.#poll(interval), interval);
  }

  /** Stops timers and notification routing without talking to the device (the session is gone). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#host.clock.clearTimeout(this.#pollTimer);
    for (const e of this.#entries.values()) {
      this.#host.clock.clearTimeout(e.timer);
      e.unregister();
    }
    this.onClose?.();
  }

  /** Stops and cancels the subscriptions on the device (best effort). */
  async close(): Promise<void> {
    const entries = [...this.#entries.values()].filter((e) => e.active);
    this.stop();
    await Promise.allSettled(entries.map((e) => this.#host.subscribeCov(this.#device, e.objectId, e.processId, false, 0, true)));
  }
}

function fingerprint(r: ReadResult): string {
  return r.quality === 'bad' ? `bad:${r.error.code}:${r.error.message}` : `${r.quality}:${typeof r.value}:${String(r.value)}`;
}

/** A point's result from a notification's present-value and status-flags. */
function resultOf(p: BPoint, pv: readonly AppData[], flags: readonly AppData[] | undefined, ts: number): ReadResult {
  return toResult({ point: p }, pv, flags, ts);
}
