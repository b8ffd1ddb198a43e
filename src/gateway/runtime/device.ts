/**
 * One sub-device at run time: the single read function every path uses (poll, read-now from the
 * broker, subscription pushes), normalization, report policy, lifecycle, and writes.
 */
import type { CompiledDevice, Mapping } from '../../devicemodel/compiled.ts';
import { invertMapping } from '../../devicemodel/mapping.ts';
import { validateDesired } from '../../devicemodel/coerce.ts';
import type { AttributeValue, PointValue, Quality } from '../../devicemodel/types.ts';
import { DriverError, toDriverError } from '../../drivers/sdk/index.ts';
import type {
  BaseConnection,
  Clock,
  DeviceRef,
  DriverDescriptor,
  Logger,
  Point,
  PointError,
  PointWrite,
  ReadResult,
} from '../../drivers/sdk/index.ts';
import type { Link } from './link.ts';
import { Normalizer } from './normalize.ts';
import type { AttributeSample } from './normalize.ts';
import { ReportPolicy } from './report-policy.ts';
import type { PolicyOptions } from './report-policy.ts';

/** What the device publishes; implemented over MQTT by the gateway, by arrays in tests. */
export interface DevicePublisher {
  report(device: CompiledDevice, properties: Record<string, AttributeValue>, ts: number): Promise<void>;
  lifecycle(device: CompiledDevice, online: boolean, ts: number): Promise<void>;
  getReport(device: CompiledDevice, properties: Record<string, AttributeValue>, ts: number): Promise<void>;
  /** `thing.event.post`: events the device raised. */
  event?(device: CompiledDevice, events: Record<string, unknown>, ts: number): Promise<void>;
}

/** Where every sample goes before the report policy: the shadow store (and from there the cloud). */
export interface ShadowSink {
  reported(device: string, props: Record<string, { value?: AttributeValue; ts: number; quality: Quality }>): void;
}

/** A rejected property of a write, or a failed one. */
export interface CommandError {
  readonly property: string;
  readonly code: 'UnknownProperty' | 'ReadOnly' | 'BadValue' | 'NotMapped' | 'NotInvertible' | 'Unsupported' | 'WriteFailed';
  readonly message: string;
}

export interface DeviceCounters {
  polls: number;
  failedPolls: number;
  overruns: number;
  pointsRead: number;
  badPoints: number;
  published: number;
  writes: number;
}

export interface DeviceOptions {
  readonly device: CompiledDevice;
  readonly descriptor: DriverDescriptor<BaseConnection, unknown>;
  readonly link: Link<BaseConnection>;
  readonly publisher: DevicePublisher;
  readonly clock: Clock;
  readonly log: Logger;
  readonly policy: PolicyOptions;
  /** Failed polls in a row before the device is reported offline. */
  readonly offlineAfter: number;
  /** Receives every sample (good or bad) for the shadow. */
  readonly shadow?: ShadowSink;
  /** Called after every poll with its duration in ms (metrics). */
  readonly onPolled?: (device: DeviceRuntime, ms: number) => void;
  /** Called when the device comes online (after the lifecycle message): apply pending desired values. */
  readonly onOnline?: (device: DeviceRuntime) => void;
}

/** How long pushed values are gathered into one report (ms). */
const PUSH_WINDOW_MS = 20;

const INT_POINT = new Set(['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);

export class DeviceRuntime {
  readonly name: string;
  readonly ref: DeviceRef<BaseConnection>;
  private readonly points: Point<unknown>[];
  private readonly pointsById: Map<string, Point<unknown>>;
  private readonly mappingsByAttr: Map<string, Mapping>;
  private readonly normalizer: Normalizer;
  private readonly policy: ReportPolicy;
  private online: boolean | undefined;
  private failures = 0;
  /** Latest sample per attribute; entries are updated in place (no allocation per sample). */
  private readonly current = new Map<string, { value: AttributeValue; quality: Quality; error?: PointError; ts: number }>();
  readonly counters: DeviceCounters = { polls: 0, failedPolls: 0, overruns: 0, pointsRead: 0, badPoints: 0, published: 0, writes: 0 };
  private readonly pendingPush = new Map<string, ReadResult>();
  /** Every attribute of a full poll, in order, each set to null (null: not usable); see {@link ingest}. */
  private template: Readonly<Record<string, null>> | null | undefined;
  /** What the report policy admitted in the current ingest (reused arrays). */
  private readonly admitted: string[] = [];
  private readonly admittedValues: (AttributeValue | undefined)[] = [];
  private pushTimer: unknown;
  /** Bad point results by error code (Timeout, Exception, BadAddress…), for metrics. */
  readonly errorsByCode = new Map<string, number>();
  lastPollAt: number | undefined;
  lastError: PointError | undefined;

  constructor(private readonly opts: DeviceOptions) {
    const d = opts.device;
    this.name = d.name;
    this.ref = { name: d.name, connection: d.connection };
    this.points = d.points.map((p) => ({ id: p.id, name: p.name, type: p.type, address: p.address }));
    this.pointsById = new Map(this.points.map((p) => [p.id, p]));
    this.mappingsByAttr = new Map(d.mappings.map((m) => [m.attribute, m]));
    this.normalizer = new Normalizer(d.mappings, d.model);
    // A mapping carries its own deviation, deadband and silentWin: it is the rule (no copy per attribute).
    this.policy = new ReportPolicy(this.mappingsByAttr, opts.policy);
  }

  get device(): CompiledDevice {
    return this.opts.device;
  }

  /** true/false once known; undefined before the first poll. */
  get isOnline(): boolean | undefined {
    return this.online;
  }

  /** The latest value of every attribute, with quality and time. */
  snapshot(): ReadonlyMap<string, AttributeSample & { ts: number }> {
    return this.current;
  }

  /**
   * The one read function: plans the device's points into requests, runs them on the link,
   * and returns one result per point (a failed request makes its points bad, never throws).
   */
  async read(): Promise<{ results: ReadResult[]; failed: boolean; error?: PointError }> {
    const link = this.opts.link;
    const session = link.current;
    if (session === undefined) {
      const error: PointError = { code: 'Offline', message: `link ${link.key} is ${link.state}${link.error ? `: ${link.error.message}` : ''}` };
      return { results: this.points.map((p) => ({ id: p.id, quality: 'bad', error })), failed: true, error };
    }
    const blocks = session.planReads ? session.planReads(this.ref, this.points) : [this.points];
    // One deadline for the whole poll (a timer per block costs more than the blocks' bookkeeping).
    // Like AbortSignal.timeout (same real-time timer, same reason), but the timer is cleared when
    // the poll ends: AbortSignal.timeout's would stay armed and fire long after every poll.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), this.ref.connection.timeout * (blocks.length + 3) + 1000);
    timer.unref();
    const signal = deadline.signal;
    let settled: PromiseSettledResult<ReadResult[]>[];
    try {
      settled = await Promise.allSettled(blocks.map((block) => link.run((s) => s.read(this.ref, block, signal), 'read', this.name)));
    } finally {
      clearTimeout(timer);
    }
    const results: ReadResult[] = [];
    let okBlocks = 0;
    let error: PointError | undefined;
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') {
        okBlocks++;
        results.push(...s.value);
      } else {
        const err = toDriverError(s.reason, 'Protocol');
        error ??= { code: err.code, message: err.message, ...(err.detail ? { detail: err.detail } : {}) };
        for (const p of blocks[i]!) results.push({ id: p.id, quality: 'bad', error: error });
      }
    });
    return { results, failed: blocks.length > 0 && okBlocks === 0, ...(error ? { error } : {}) };
  }

  /** A scheduled poll: read, normalize, publish what the policy admits, update lifecycle. */
  async poll(): Promise<void> {
    this.counters.polls++;
    const now = this.opts.clock.now();
    this.lastPollAt = now;
    const t0 = this.opts.clock.monotonic();
    const { results, failed, error } = await this.read();
    this.opts.onPolled?.(this, this.opts.clock.monotonic() - t0);
    this.count(results);
    if (failed) {
      this.counters.failedPolls++;
      this.lastError = error;
      if (++this.failures >= this.opts.offlineAfter) await this.setOnline(false, error);
      await this.ingest(results, now, true, false);
      return;
    }
    this.failures = 0;
    await this.setOnline(true, undefined);
    await this.ingest(results, now, true, true);
  }

  /** Events the device raised: published as they come (events are not merged like values). */
  async raised(events: Readonly<Record<string, unknown>>, ts?: number): Promise<void> {
    if (this.opts.publisher.event === undefined || Object.keys(events).length === 0) return;
    await this.opts.publisher.event(this.opts.device, { ...events }, ts ?? this.opts.clock.now());
  }

  /** Values pushed by a subscription. */
  async pushed(results: readonly ReadResult[]): Promise<void> {
    this.count(results);
    if (this.online !== true) await this.setOnline(true, undefined);
    // Pushes come in bursts (one IEC 104 ASDU, one OPC UA notification, one COV at a time):
    // gather what arrives within PUSH_WINDOW_MS into one report instead of one message each.
    for (const r of results) this.pendingPush.set(r.id, r);
    if (this.pushTimer !== undefined) return;
    this.pushTimer = this.opts.clock.setTimeout(() => {
      this.pushTimer = undefined;
      const batch = [...this.pendingPush.values()];
      this.pendingPush.clear();
      // After a stop the store may be closed: a late batch is dropped, never an unhandled rejection.
      this.ingest(batch, this.opts.clock.now(), false, true).catch((e: unknown) => this.opts.log.debug({ err: String(e) }, 'pushed values dropped'));
    }, PUSH_WINDOW_MS);
  }

  /** The link went down: the device is offline at once. */
  async linkDown(error: PointError | undefined): Promise<void> {
    this.lastError = error;
    this.normalizer.invalidate(error ?? { code: 'Offline', message: 'link down' });
    await this.setOnline(false, error);
  }

  /**
   * Reads now and answers on the device's `get` topic with the named attributes (all when
   * `names` is empty). Also runs the normal report path.
   */
  async readNow(names: readonly string[]): Promise<void> {
    await this.poll();
    const props: Record<string, AttributeValue> = {};
    for (const [k, v] of this.current) {
      if (v.quality === 'bad') continue;
      if (names.length === 0 || names.includes(k)) props[k] = v.value;
    }
    await this.opts.publisher.getReport(this.opts.device, props, this.opts.clock.now());
  }

  /**
   * Checks values as a desired document would be checked (model mode rw, type, range, mapping
   * invertible, driver can write) and returns the point writes they become. Writes nothing.
   */
  validate(properties: Readonly<Record<string, unknown>>): { writes: PointWrite<unknown>[]; errors: CommandError[] } {
    const errors: CommandError[] = [];
    const writes: PointWrite<unknown>[] = [];
    for (const [attr, raw] of Object.entries(properties)) {
      const prop = this.opts.device.model.get(attr);
      if (prop === undefined) {
        errors.push({ property: attr, code: 'UnknownProperty', message: `${attr} is not a property of model ${this.opts.device.product}` });
        continue;
      }
      const valid = validateDesired(prop, raw);
      if (!valid.ok) {
        errors.push({ property: attr, code: prop.mode === 'ro' ? 'ReadOnly' : 'BadValue', message: valid.error });
        continue;
      }
      const mapping = this.mappingsByAttr.get(attr);
      if (mapping === undefined) {
        errors.push({ property: attr, code: 'NotMapped', message: `${attr} has no mapping to a point in access template ${this.opts.device.accessTemplate}` });
        continue;
      }
      const inv = invertMapping(mapping, valid.value);
      if (!inv.ok) {
        errors.push({ property: attr, code: 'NotInvertible', message: inv.error });
        continue;
      }
      const point = this.pointsById.get(inv.pointId);
      if (point === undefined) {
        errors.push({ property: attr, code: 'NotMapped', message: `${attr} maps to point x${inv.pointId}, which is not in the template` });
        continue;
      }
      if (!this.opts.descriptor.capabilities.write) {
        errors.push({ property: attr, code: 'Unsupported', message: `driver ${this.opts.descriptor.id} cannot write` });
        continue;
      }
      writes.push({ point, value: toPointType(point, inv.value) });
    }
    return { writes, errors };
  }

  /**
   * Validates every property (see {@link validate}) and writes only when all pass; then reads
   * back and reports. Returns the errors, empty on success.
   */
  async write(properties: Readonly<Record<string, unknown>>): Promise<CommandError[]> {
    const { writes, errors } = this.validate(properties);
    if (errors.length > 0 || writes.length === 0) return errors;
    this.counters.writes++;
    let results;
    try {
      results = await this.opts.link.run((s) => {
        if (s.write === undefined) throw new DriverError('Unsupported', `driver ${this.opts.descriptor.id} cannot write`);
        return s.write(this.ref, writes, AbortSignal.timeout(this.ref.connection.timeout * 4 + 1000));
      }, 'write', this.name);
    } catch (e) {
      const err = toDriverError(e);
      return writes.map((w) => ({ property: attrOf(this.mappingsByAttr, w.point.id), code: 'WriteFailed', message: `${err.code}: ${err.message}` }));
    }
    for (const r of results) {
      if (!r.ok) errors.push({ property: attrOf(this.mappingsByAttr, r.id), code: 'WriteFailed', message: `${r.error.code}: ${r.error.message}` });
    }
    await this.poll();
    return errors;
  }

  private count(results: readonly ReadResult[]): void {
    this.counters.pointsRead += results.length;
    for (const r of results) {
      if (r.quality !== 'bad') continue;
      this.counters.badPoints++;
      this.errorsByCode.set(r.error.code, (this.errorsByCode.get(r.error.code) ?? 0) + 1);
    }
  }

  private async ingest(results: readonly ReadResult[], now: number, all: boolean, publish: boolean): Promise<void> {
    const samples = this.normalizer.ingest(results, all);
    // A full poll gives every attribute, always the same keys: its records start as copies of a
    // template that has them all (one allocation, V8 fast properties), not as `{}` grown key by
    // key into a hash table on every poll. Every key is then set, so no template value is left.
    if (all && this.template === undefined) this.template = templateOf(samples.keys());
    const template = all && this.template !== null ? this.template : undefined;
    const shadow = seeded<{ value?: AttributeValue; ts: number; quality: Quality }>(template);
    const admitted = this.admitted;
    const admittedValues = this.admittedValues;
    let n = 0;
    for (const [attr, s] of samples) {
      const cur = this.current.get(attr);
      if (cur === undefined) this.current.set(attr, { value: s.value, quality: s.quality, ...(s.error ? { error: s.error } : {}), ts: now });
      else {
        cur.value = s.value;
        cur.quality = s.quality;
        if (s.error !== undefined) cur.error = s.error;
        else if (cur.error !== undefined) delete cur.error;
        cur.ts = now;
      }
      shadow[attr] = s.quality === 'bad' ? { ts: now, quality: 'bad' } : { value: s.value, ts: now, quality: s.quality };
      if (!publish || s.quality === 'bad') continue;
      if (this.policy.admit(attr, s, now)) {
        admitted[n] = attr;
        admittedValues[n] = s.value;
        n++;
      }
    }
    if (samples.size > 0) this.opts.shadow?.reported(this.name, shadow);
    if (n > 0) {
      const props = seeded<AttributeValue>(n === samples.size ? template : undefined);
      for (let i = 0; i < n; i++) props[admitted[i]!] = admittedValues[i] as AttributeValue;
      admittedValues.fill(undefined, 0, n); // hold no value past this call
      this.counters.published += n;
      // Never wait for the broker here: while it is down, messages queue in the broker link (in
      // order) and polling goes on; a poll that waited for a PUBACK would stall the device.
      void this.opts.publisher.report(this.opts.device, props, now).catch((e: unknown) => {
        this.opts.log.warn({ err: String(e) }, 'report not published');
      });
    }
  }

  private async setOnline(online: boolean, error: PointError | undefined): Promise<void> {
    if (this.online === online) return;
    this.online = online;
    if (online) this.policy.reset();
    this.opts.log.info({ online, ...(error ? { code: error.code, error: error.message } : {}) }, 'device state');
    void this.opts.publisher.lifecycle(this.opts.device, online, this.opts.clock.now()).catch((e: unknown) => {
      this.opts.log.warn({ err: String(e) }, 'lifecycle not published');
    });
    if (online) this.opts.onOnline?.(this);
  }
}

/**
 * An object with these keys, each null, in fast-properties mode (JSON.parse builds it that way,
 * also for many keys). null for a `__proto__` attribute: `{}` grown by assignment, as before,
 * would not get that key as its own, and the template would.
 */
function templateOf(keys: Iterable<string>): Readonly<Record<string, null>> | null {
  const parts: string[] = [];
  for (const k of keys) {
    if (k === '__proto__') return null;
    parts.push(`${JSON.stringify(k)}:null`);
  }
  return JSON.parse(`{${parts.join(',')}}`) as Record<string, null>;
}

/** A new record: a copy of `template` (its keys are all about to be set), or `{}`. */
function seeded<T>(template: Readonly<Record<string, null>> | undefined): Record<string, T> {
  return (template === undefined ? {} : { ...template }) as Record<string, T>;
}

function attrOf(mappings: Map<string, Mapping>, pointId: string): string {
  for (const m of mappings.values()) if (m.pointIds[0] === pointId) return m.attribute;
  return `x${pointId}`;
}

/** Inverse mappings give numbers; integer points take the nearest integer. */
function toPointType(point: Point<unknown>, v: PointValue): PointValue {
  if (typeof v === 'number' && INT_POINT.has(point.type)) {
    const r = Math.round(v);
    return point.type === 'int64' || point.type === 'uint64' ? BigInt(r) : r;
  }
  if (typeof v === 'number' && point.type === 'bool') return v !== 0;
  if (typeof v === 'boolean' && point.type !== 'bool' && point.type !== 'string') return v ? 1 : 0;
  return v;
}
