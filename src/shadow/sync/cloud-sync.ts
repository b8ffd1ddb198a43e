/**
 * Cloud sync of the shadows: every message for the cloud is appended to the durable outbox first
 * (the only path up, so nothing leaves before it is stored), then drained to the cloud hub over a
 * second MQTT connection (outbox-drain.ts); desired documents come down, are validated by the
 * gateway, stored and answered (desired.ts). Topics and payloads: docs/cloud-protocol.md.
 */
import type { Clock, Logger } from '../../drivers/sdk/types.ts';
import type { AttributeValue, Quality } from '../../devicemodel/types.ts';
import type { LinkState } from '../../gateway/mqtt/connection.ts';
import { valueEqual } from '../json.ts';
import { isShadowError } from '../errors.ts';
import { define } from '../state.ts';
import type { ShadowStore } from '../store-api.ts';
import { CloudLink, type CloudLinkOptions } from './cloud-link.ts';
import { DesiredInbox, type DesiredAppliedListener, type DesiredHandler } from './desired.ts';
import { OutboxBound, type OutboxLimits } from './outbox-bound.ts';
import { OutboxDrain } from './outbox-drain.ts';
import {
  ackMessage,
  deviceTopic,
  lifecycleMessage,
  makeMeta,
  nameProblem,
  parseDesired,
  parseGet,
  parseTopic,
  reportMessage,
  serialize,
  type AckFields,
  type Channel,
  type Meta,
  type StreamPos,
} from './protocol.ts';

/** Options of {@link CloudSync}. */
export interface CloudSyncOptions {
  /** The cloud hub (`cloud` in gateway.yaml): url, clientId, credentials, TLS, protocolVersion 4 | 5. */
  readonly link: CloudLinkOptions;
  /** This node's name: the second level of every topic. */
  readonly node: string;
  readonly store: ShadowStore;
  readonly log: Logger;
  /** Defaults to the real clock. */
  readonly clock?: Clock;
  /** Outbox rows sent per second at most (default 5000). */
  readonly drainRatePerSec?: number;
  /** QoS 1 messages awaiting PUBACK at most (default 100). */
  readonly maxInFlight?: number;
  /** Bounds of the outbox besides the store's row bound; see outbox-bound.ts. */
  readonly limits?: OutboxLimits;
  /** Product and access template of a device, for `meta` (unknown parts are sent as `''`). */
  readonly describe?: (device: string) => { deviceProduct?: string; accessTemplate?: string } | undefined;
  /**
   * Clear desired keys that a report matches and tell the cloud (`acknowledged`) from
   * {@link CloudSync.reported} (default true). When false, call {@link CloudSync.acknowledgeReported}.
   */
  readonly autoAcknowledge?: boolean;
}

/** `stopped` before start() and after stop(); else the cloud link's state. */
export type CloudSyncState = 'stopped' | LinkState;

/** Counters of the sync, for metrics and the API. */
export interface CloudSyncCounters {
  /** Publishes handed to the cloud link (resends included). */
  readonly sent: number;
  /** Outbox rows acknowledged by the cloud hub (PUBACK) and released. */
  readonly acked: number;
  /** Outbox rows dropped by a bound (here or the store's), since start. */
  readonly dropped: number;
  /** Desired documents ignored because their version was older than the one held. */
  readonly ignoredStale: number;
  /** Publishes awaiting their PUBACK now (at most `maxInFlight`). */
  readonly inFlight: number;
  /** Outbox rows waiting. */
  readonly backlog: number;
  /** Bytes of the rows waiting, as far as counted (0 when no byte bound is set). */
  readonly backlogBytes: number;
  /** Rows acknowledged per second over the last second. */
  readonly lastDrainRate: number;
  /** Full shadows re-sent after a drop (or asked for by the cloud). */
  readonly fullReports: number;
  readonly desired: { readonly received: number; readonly accepted: number; readonly rejected: number; readonly conflicts: number };
  /** Downlink messages that could not be read. */
  readonly badMessages: number;
  /** Drain restarts (reconnects, failed publishes). */
  readonly restarts: number;
}

const realClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

const TICK_MS = 1000;

/** The cloud side of the gateway; see the file comment and docs/cloud-protocol.md. */
export class CloudSync {
  private readonly store: ShadowStore;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly node: string;
  /** Stream epoch of this process: the highest outbox seq ever written when it started. */
  private readonly epoch: number;
  private readonly seqs = new Map<string, number>();
  private readonly online = new Map<string, boolean>();
  private readonly desired: DesiredInbox;
  private readonly bound: OutboxBound;
  private readonly badNames = new Set<string>();
  /** Devices that lost outbox rows to a bound: their full shadow goes out when the link is up. */
  private readonly resync = new Set<string>();
  private link: CloudLink | undefined;
  private drain: OutboxDrain | undefined;
  private unsubscribeFlush: (() => void) | undefined;
  private tick: unknown;
  private running = false;
  private storeDropped: number;
  private pendingBytes = 0;
  private dropped = 0;
  private fullReports = 0;
  private badMessages = 0;
  private rate = 0;
  private rateAt = 0;
  private rateAcked = 0;
  private lastWarnAt = -Infinity;

  /** @throws ShadowError `Storage` if the store cannot write its pending batch (needed for the epoch). */
  constructor(private readonly opts: CloudSyncOptions) {
    const problem = nameProblem(opts.node);
    if (problem !== undefined) throw new Error(`cloud node name ${JSON.stringify(opts.node)} ${problem}`);
    this.store = opts.store;
    this.log = opts.log;
    this.clock = opts.clock ?? realClock;
    this.node = opts.node;
    this.epoch = this.store.flush().lastSeq ?? 0;
    this.storeDropped = this.store.stats().outbox.dropped;
    this.bound = new OutboxBound(this.store, opts.limits ?? {}, () => this.clock.now());
    this.desired = new DesiredInbox(this.store, (device, f) => this.appendAck(device, f, true), () => this.clock.now(), this.log);
  }

  /** Connects to the cloud hub and starts draining the outbox (oldest row first). Call once. */
  start(): void {
    if (this.running || this.link !== undefined) return;
    this.running = true;
    const maxInFlight = this.opts.maxInFlight ?? 100;
    if (this.bound.active) this.bound.recount();
    this.link = new CloudLink(this.opts.link, this.node, maxInFlight, () => this.clock.now(), this.log, {
      onState: (state, prev) => this.onLinkState(state, prev),
      onMessage: (topic, payload) => this.onMessage(topic, payload),
    });
    const link = this.link;
    this.drain = new OutboxDrain({
      store: this.store,
      send: (e) => link.send(e),
      isOnline: () => link.state === 'online',
      ratePerSec: this.opts.drainRatePerSec ?? 5000,
      maxInFlight,
      timers: this.clock,
      onConfirmed: (_seq, bytes) => this.bound.confirmed(bytes),
      onSendError: (e) => this.log.debug({ err: e instanceof Error ? e.message : String(e) }, 'cloud publish failed; resending from the oldest unacked row'),
      onAckError: (e) => this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'acknowledged cloud messages not yet deleted from the outbox; retrying'),
    });
    this.unsubscribeFlush = this.store.onFlush((info) => this.onFlush(info.outboxRows));
    this.rateAt = this.clock.monotonic();
    this.scheduleTick();
  }

  /** Stops draining, deletes what the cloud acknowledged, says offline and disconnects. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.tick !== undefined) this.clock.clearTimeout(this.tick);
    this.tick = undefined;
    this.unsubscribeFlush?.();
    // Let documents being validated get their answer, but do not hang a shutdown on a stuck validator.
    await Promise.race([this.desired.idle(), new Promise((r) => setTimeout(r, 2000).unref())]);
    this.drain?.stop();
    await this.link?.close();
  }

  get state(): CloudSyncState {
    return this.running && this.link !== undefined ? this.link.state : 'stopped';
  }

  get counters(): CloudSyncCounters {
    const d = this.drain?.counters;
    const c = this.desired.counters;
    return {
      sent: d?.sent ?? 0,
      acked: d?.acked ?? 0,
      dropped: this.dropped,
      ignoredStale: c.ignoredStale,
      inFlight: d?.inFlight ?? 0,
      backlog: this.store.stats().outbox.size,
      backlogBytes: this.bound.bytes,
      lastDrainRate: this.rate,
      fullReports: this.fullReports,
      desired: { received: c.received, accepted: c.accepted, rejected: c.rejected, conflicts: c.conflicts },
      badMessages: this.badMessages,
      restarts: d?.restarts ?? 0,
    };
  }

  /**
   * Queues a report of the attributes that changed; call right after `store.report(device, …)`
   * with the same updates (or those of its `changed`). Values are taken from the shadow (merged).
   * Then, unless `autoAcknowledge` is false, acknowledges desired keys the report now matches.
   */
  reported(device: string, changed: Readonly<Record<string, { value?: AttributeValue; ts: number; quality: Quality }>>): void {
    if (Object.keys(changed).length === 0 || !this.deviceOk(device)) return;
    const s = this.store.get(device);
    if (s === undefined) return;
    const properties: Record<string, AttributeValue> = {};
    const metadata: Record<string, { ts: number; quality: Quality }> = {};
    for (const key of Object.keys(changed)) {
      const upd = changed[key]!;
      const value = Object.hasOwn(s.report, key) ? s.report[key]! : (upd.value ?? null);
      define(properties, key, value);
      define(metadata, key, Object.hasOwn(s.meta.report, key) ? s.meta.report[key]! : { ts: upd.ts, quality: upd.quality });
    }
    const ts = maxTs(metadata) ?? this.clock.now();
    this.append(device, 'report', (pos) =>
      reportMessage(this.meta(device), pos, { ts, properties, metadata, reportVersion: s.reportVersion, desireVersion: s.desireVersion }),
    );
    if (this.opts.autoAcknowledge !== false) this.acknowledgeReported(device, Object.keys(changed));
  }

  /** Queues the device's online state (Baetyl `thing.lifecycle.post`). */
  lifecycle(device: string, online: boolean, ts: number = this.clock.now()): void {
    if (!this.deviceOk(device)) return;
    this.online.set(device, online);
    this.append(device, 'lifecycle', (pos) => lifecycleMessage(this.meta(device), online, ts, pos), true);
  }

  /**
   * Removes desired keys whose reported value (good quality) now equals them, and tells the cloud
   * (`desired/ack` with status `acknowledged`): the delta disappears from both views (AWS-like).
   * `keys` limits the check (default: every desired key). Returns the keys acknowledged.
   */
  acknowledgeReported(device: string, keys?: readonly string[]): string[] {
    const s = this.store.get(device);
    if (s === undefined) return [];
    const matched: Record<string, AttributeValue> = {};
    const names: string[] = [];
    for (const k of keys ?? Object.keys(s.desire)) {
      if (!Object.hasOwn(s.desire, k) || !Object.hasOwn(s.report, k)) continue;
      if (s.meta.report[k]?.quality !== 'good' || !valueEqual(s.desire[k], s.report[k])) continue;
      define(matched, k, s.report[k]!);
      names.push(k);
    }
    if (names.length === 0) return [];
    let desireVersion: number;
    try {
      desireVersion = this.store.clearDesired(device, matched).shadow.desireVersion;
    } catch (e) {
      this.log.error({ device, err: isShadowError(e) ? e.message : String(e) }, 'cannot clear acknowledged desired keys');
      return [];
    }
    this.appendAck(device, { status: 'acknowledged', acknowledged: matched, accepted: [], rejected: [], desireVersion, timestamp: this.clock.now() }, false);
    return names;
  }

  /** Sets the validator of desired documents (one handler; a second call replaces it). Without one, every key is accepted. */
  onDesired(handler: DesiredHandler): void {
    this.desired.handler = handler;
  }

  /** Adds a listener called once accepted desired values are stored; returns a function that removes it. */
  onDesiredApplied(listener: DesiredAppliedListener): () => void {
    this.desired.applied.add(listener);
    return () => this.desired.applied.delete(listener);
  }

  /** Queues the whole shadow of a device (`full: true`), e.g. after the cloud lost its copy. */
  sendFullState(device: string, reqId?: string): void {
    if (!this.deviceOk(device)) return;
    const s = this.store.get(device);
    if (s === undefined) return;
    this.fullReports++;
    const metadata = { ...s.meta.report };
    const online = this.online.get(device);
    this.append(device, 'report', (pos) =>
      reportMessage(this.meta(device), pos, {
        ts: maxTs(metadata) ?? this.clock.now(),
        properties: { ...s.report },
        metadata,
        reportVersion: s.reportVersion,
        desireVersion: s.desireVersion,
        full: true,
        desired: { ...s.desire },
        ...(online !== undefined ? { online } : {}),
        ...(reqId !== undefined ? { reqId } : {}),
      }),
    );
  }

  /** Resolves when every desired document received so far has been answered (for tests and shutdown). */
  desiredIdle(): Promise<void> {
    return this.desired.idle();
  }

  private meta(device: string): Meta {
    return makeMeta(this.node, device, this.opts.describe?.(device) ?? {});
  }

  private deviceOk(device: string): boolean {
    const problem = nameProblem(device);
    if (problem === undefined) return true;
    if (!this.badNames.has(device)) {
      this.badNames.add(device);
      this.log.warn({ device }, `device name ${problem}; not synced with the cloud`);
    }
    return false;
  }

  /** Numbers the message in its device's stream and appends it to the outbox. */
  private append(device: string, channel: Channel, build: (pos: StreamPos) => object, sync = false): void {
    const seq = (this.seqs.get(device) ?? 0) + 1;
    this.seqs.set(device, seq);
    const topic = deviceTopic(this.node, device, channel);
    const payload = serialize(build({ epoch: this.epoch, seq }));
    const bytes = Buffer.byteLength(topic) + Buffer.byteLength(payload);
    try {
      const r = sync ? this.store.appendSync(topic, payload, 1) : this.store.append(topic, payload, 1);
      if (r !== undefined) {
        this.bound.appended(bytes);
        this.pendingBytes += bytes;
      }
    } catch (e) {
      // appendSync failed to commit: the row stays queued in memory and a later batch retries it.
      this.bound.appended(bytes);
      this.pendingBytes += bytes;
      this.log.error({ device, err: isShadowError(e) ? e.message : String(e) }, 'cloud outbox write failed; retrying in the background');
    }
  }

  private appendAck(device: string, f: AckFields, sync: boolean): void {
    if (!this.deviceOk(device)) return;
    this.append(device, 'desired/ack', (pos) => ackMessage(this.meta(device), pos, f), sync);
  }

  private onFlush(outboxRows: number): void {
    if (outboxRows > 0) this.pendingBytes = 0;
    const dropped = this.store.stats().outbox.dropped;
    if (dropped > this.storeDropped) {
      // The store's row bound dropped the oldest rows; which devices they were is not known here.
      const n = dropped - this.storeDropped;
      this.storeDropped = dropped;
      this.bound.invalidate();
      this.noteDrop(n, 'rows', new Set(this.store.devices()));
    }
    try {
      this.enforceBounds();
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'cloud outbox bound check failed');
    }
    this.drain?.kick();
  }

  private enforceBounds(): void {
    if (!this.bound.active || this.drain === undefined) return;
    this.drain.applyAcks();
    const drop = this.bound.enforce(this.pendingBytes);
    if (drop === undefined) return;
    this.drain.skipTo(drop.upTo);
    this.noteDrop(drop.rows, drop.reason, drop.devices);
  }

  private noteDrop(rows: number, reason: string, devices: ReadonlySet<string>): void {
    this.dropped += rows;
    for (const d of devices) this.resync.add(d);
    const now = this.clock.monotonic();
    if (now - this.lastWarnAt > 10_000) {
      this.lastWarnAt = now;
      this.log.warn(
        { dropped: rows, totalDropped: this.dropped, reason, devices: devices.size, limits: this.opts.limits },
        'cloud outbox over its bound: oldest messages dropped; the full shadow of each affected device will be re-sent',
      );
    }
    if (this.link?.state === 'online') this.flushResync();
  }

  private flushResync(): void {
    const devices = [...this.resync];
    this.resync.clear();
    for (const d of devices) this.sendFullState(d);
  }

  private onLinkState(state: LinkState, prev: LinkState): void {
    if (state === 'online') {
      // A fresh session: anything in flight may be lost, so start again from the oldest unacked row.
      if (prev !== 'connecting') this.drain?.restart();
      this.flushResync();
      this.drain?.kick();
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (t === undefined || !('device' in t) || t.node !== this.node) return;
    if (t.channel === 'desired') {
      const doc = parseDesired(t.device, payload);
      if (doc.kind === 'error') {
        this.badMessages++;
        this.log.warn({ topic, err: doc.error }, 'unreadable desired document ignored');
        return;
      }
      void this.desired.receive(doc.value);
    } else if (t.channel === 'get') {
      const g = parseGet(payload);
      if (g.kind === 'error') {
        this.badMessages++;
        this.log.warn({ topic, err: g.error }, 'unreadable shadow request ignored');
        return;
      }
      this.sendFullState(t.device, g.value.reqId);
    }
  }

  private scheduleTick(): void {
    this.tick = this.clock.setTimeout(() => {
      this.tick = undefined;
      if (!this.running) return;
      try {
        this.enforceBounds();
      } catch (e) {
        this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'cloud outbox bound check failed');
      }
      const now = this.clock.monotonic();
      const acked = this.drain?.counters.acked ?? 0;
      if (now > this.rateAt) this.rate = Math.round(((acked - this.rateAcked) * 1000) / (now - this.rateAt));
      this.rateAt = now;
      this.rateAcked = acked;
      this.scheduleTick();
    }, TICK_MS);
  }
}

function maxTs(meta: Readonly<Record<string, { ts: number }>>): number | undefined {
  let m: number | undefined;
  for (const k of Object.keys(meta)) {
    const ts = meta[k]!.ts;
    if (m === undefined || ts > m) m = ts;
  }
  return m;
}
