/**
 * One open BACnet/IP link: a UDP socket (our transport under @bacnet-js/client) and the devices
 * reached through it. UDP has no connection, so `open` proves the device is there by reading its
 * device object (max-apdu-length-accepted, segmentation-supported), which also sizes the
 * ReadPropertyMultiple batches. Devices that share a fixed local port share the session; each
 * is resolved (address, limits) on first use.
 *
 * - Timeout and Offline throw (the gateway owns the link); BACnet errors become bad results for
 *   the points concerned only.
 * - ReadPropertyMultiple is used until the device rejects it (Reject "unrecognized service" or an
 *   Error of class services), then ReadProperty for that device. An answer too long for the
 *   device (abort: segmentation not supported / buffer overflow) halves the batch.
 */
import { DriverError, Gate } from '../sdk/index.ts';
import type { ConnectOptions, DeviceRef, DriverContext, Point, PointWrite, ReadResult, Session, Subscription, SubscriptionSink, WriteResult } from '../sdk/index.ts';
import { bacnetLinkKey, deviceEndpoint, hostPort } from './address.ts';
import type { BacnetAddress, BacnetConnection } from './address.ts';
import type dgram from 'node:dgram';
import { covNotifyDecoder, openClient } from './client.ts';
import type { BacnetClient } from './client.ts';
import { ARRAY_ALL, OBJECT_TYPES, PROP, SEGMENTATION } from './constants.ts';
import { CovSubscription } from './cov.ts';
import type { CovHost, CovPayload } from './cov.ts';
import { CovIntake } from './cov-intake.ts';
import type { CovIntakeStats } from './cov-intake.ts';
import { encodeSimpleAck, peekCovFrame, SERVICE_CONFIRMED_COV_NOTIFICATION } from './codec/cov-frame.ts';
import { isServiceUnsupported, isTooLong, pointError, toBacnetError } from './errors.ts';
import { itemsOf, objectKey, planBatches } from './plan.ts';
import type { BatchLimits, ReadItem } from './plan.ts';
import type { UdpTransport } from './transport.ts';
import { toResult } from './result.ts';
import { encodeWrite, NULL_VALUE } from './values.ts';
import type { AppData } from './values.ts';

type BPoint = Point<BacnetAddress>;
type Device = DeviceRef<BacnetConnection>;
type ObjectId = { type: number; instance: number };

/** What the session learned about one device. */
export interface DeviceInfo {
  readonly deviceId: number;
  /** `ip:port` the device answers on. */
  readonly endpoint: string;
  readonly maxApdu: number;
  readonly segmentation: number;
  /** `unknown` until the first ReadPropertyMultiple; `no` after the device rejected it. */
  rpm: 'unknown' | 'yes' | 'no';
  /** Points per ReadPropertyMultiple, lowered when an answer was too long. */
  maxPoints: number;
}

function deviceKey(c: BacnetConnection): string {
  return `${c.deviceId}@${deviceEndpoint(c) ?? `whois:${c.broadcastAddress}`}`;
}

/** The window of a link. */
export function linkWindow(c: BacnetConnection): number {
  return c.window;
}

export { bacnetLinkKey };

/** An open link. Create with {@link BacnetSession.open}. */
export class BacnetSession implements Session<BacnetConnection, BacnetAddress> {
  readonly #client: BacnetClient;
  readonly #transport: UdpTransport;
  readonly #ctx: DriverContext;
  readonly #onLost: ConnectOptions['onLost'];
  readonly #gate: Gate;
  #state: 'open' | 'lost' | 'closed' = 'open';
  readonly #pending = new Set<(e: DriverError) => void>();
  readonly #devices = new Map<string, Promise<DeviceInfo>>();
  readonly #resolved = new Map<string, DeviceInfo>();
  readonly #intake: CovIntake;
  readonly #subscriptions = new Set<CovSubscription>();
  #nextProcessId = 1;
  #bbmdTimer: unknown;
  /** Requests sent, by service (for tests and metrics). */
  readonly requests = { readProperty: 0, readPropertyMultiple: 0, writeProperty: 0, subscribeCov: 0, whoIs: 0 };

  private constructor(client: BacnetClient, transport: UdpTransport, connection: BacnetConnection, options: ConnectOptions, ctx: DriverContext) {
    this.#client = client;
    this.#transport = transport;
    this.#ctx = ctx;
    this.#onLost = options.onLost;
    this.#gate = new Gate(connection.window);
    this.#intake = new CovIntake(covNotifyDecoder(), ctx.clock, ctx.metrics, (e) => ctx.log.warn({ err: String(e) }, 'BACnet: COV delivery failed'), () => transport.receiveDrops());
    // COV notifications from directly connected devices take the fast path (#intercept); the
    // library still sees routed and forwarded ones, which end up in the same queue.
    transport.interceptor = this.#intercept;
    client.on('covNotifyUnconfirmed', (c) => this.#offerDecoded(c.payload as CovPayload | undefined));
    client.on('covNotify', (c) => {
      // A ConfirmedCOVNotification is acknowledged with a SimpleACK (§13.14.1.1).
      if (c.header?.sender !== undefined && c.invokeId !== undefined && c.service !== undefined) {
        client.simpleAckResponse(c.header.sender, c.service, c.invokeId);
        this.#intake.acked();
      }
      this.#offerDecoded(c.payload as CovPayload | undefined);
    });
    transport.on('close', () => this.#lost('the BACnet socket closed'));
  }

  /**
   * Binds the socket, registers with the BBMD when configured, finds the device (Who-Is when it
   * has no address) and reads its device object. Rejects with `Offline` (socket, BBMD) or
   * `Timeout` (the device did not answer) or the device's error.
   */
  static async open(connection: BacnetConnection, options: ConnectOptions, ctx: DriverContext): Promise<BacnetSession> {
    const { client, transport } = await openClient({
      port: connection.localPort,
      interface: connection.interface,
      broadcastAddress: hostPort(connection.broadcastAddress, connection.port),
      apduTimeout: connection.timeout,
    });
    const session = new BacnetSession(client, transport, connection, options, ctx);
    try {
      if (connection.bbmd !== undefined) await session.#registerForeign(connection);
      await session.deviceInfo({ name: '(connect)', connection }, options.signal);
    } catch (e) {
      await session.close();
      throw toBacnetError(e);
    }
    return session;
  }

  /** Where the socket is bound. */
  get localAddress(): { address: string; port: number } | undefined {
    return this.#transport.address;
  }

  /**
   * Counters of the COV queue: notifications received, delivered, coalesced (replaced by a newer
   * one of the same object before delivery), dropped (unknown subscription, malformed), how
   * many wait now (never more than the subscriptions), and what the kernel dropped on the socket.
   */
  get cov(): CovIntakeStats {
    return this.#intake.stats;
  }

  /** The device's address and limits, resolved once per session (Who-Is, device object). */
  deviceInfo(device: Device, signal: AbortSignal): Promise<DeviceInfo> {
    const key = deviceKey(device.connection);
    let p = this.#devices.get(key);
    if (p === undefined) {
      p = this.#resolve(device, signal).then(
        (info) => {
          this.#resolved.set(key, info);
          return info;
        },
        (e: unknown) => {
          this.#devices.delete(key);
          throw e;
        },
      );
      this.#devices.set(key, p);
    }
    return p;
  }

  planReads(device: Device, points: readonly BPoint[]): BPoint[][] {
    const info = this.#resolved.get(deviceKey(device.connection));
    const c = device.connection;
    // Before the device is known (or when it takes ReadProperty only) plan with BACnet/IP's
    // smallest common APDU; read() re-plans with what it learns.
    const limits = this.#limits(c, info);
    return planBatches(itemsOf(points, c.addressOffset), limits).map((b) => b.map((i) => i.point));
  }

  /** Reads the points; one result per point. */
  async read(device: Device, points: readonly BPoint[], signal: AbortSignal): Promise<ReadResult[]> {
    const info = await this.deviceInfo(device, signal);
    const out: ReadResult[] = [];
    for (const batch of planBatches(itemsOf(points, device.connection.addressOffset), this.#limits(device.connection, info))) {
      out.push(...(await this.#readBatch(device, info, batch, signal)));
    }
    return out;
  }

  /** Writes in order with WriteProperty at the point's priority; one result per write. */
  async write(device: Device, writes: readonly PointWrite<BacnetAddress>[], signal: AbortSignal): Promise<WriteResult[]> {
    const info = await this.deviceInfo(device, signal);
    const out: WriteResult[] = [];
    for (const w of writes) {
      const a = w.point.address;
      const relinquish = a.relinquishValue !== undefined && String(a.relinquishValue) === String(w.value);
      if (relinquish) {
        out.push(await this.#writeValue(device, info, w.point, NULL_VALUE, signal));
        continue;
      }
      const enc = encodeWrite(a, w.point.type, w.value);
      if (enc.kind === 'error') out.push({ id: w.point.id, ok: false, error: enc.error });
      else out.push(await this.#writeValue(device, info, w.point, enc.value, signal));
    }
    return out;
  }

  /** Relinquishes the points' priority slots (writes NULL at their priority, §19.2.3). */
  async relinquish(device: Device, points: readonly BPoint[], signal: AbortSignal): Promise<WriteResult[]> {
    const info = await this.deviceInfo(device, signal);
    const out: WriteResult[] = [];
    for (const p of points) out.push(await this.#writeValue(device, info, p, NULL_VALUE, signal));
    return out;
  }

  /** Subscribes COV for the device's points that ask for it (see cov.ts); the rest are left to polling. */
  async subscribe(device: Device, points: readonly BPoint[], sink: SubscriptionSink): Promise<Subscription> {
    const sub = new CovSubscription(this.#covHost(), device, points, sink);
    this.#subscriptions.add(sub);
    sub.onClose = () => this.#subscriptions.delete(sub);
    await sub.start();
    return sub;
  }

  /** Closes the socket; idempotent. Calls in flight reject with `Offline`. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#ctx.clock.clearTimeout(this.#bbmdTimer);
    for (const s of [...this.#subscriptions]) s.stop();
    this.#intake.close();
    this.#failPending(new DriverError('Offline', 'the BACnet session was closed'));
    this.#client.close();
  }

  // ---- device resolution ----

  async #resolve(device: Device, signal: AbortSignal): Promise<DeviceInfo> {
    const c = device.connection;
    const endpoint = deviceEndpoint(c) ?? (await this.#whoIs(c, signal));
    const dev: ObjectId = { type: OBJECT_TYPES.device, instance: c.deviceId };
    const readNumber = async (prop: number): Promise<number | undefined> => {
      try {
        const r = await this.#call(c, (cl) => {
          this.requests.readProperty++;
          return cl.readProperty({ address: endpoint }, dev, prop);
        }, signal);
        const v = (r.values as AppData[])[0]?.value;
        return typeof v === 'number' ? v : undefined;
      } catch (e) {
        const err = toBacnetError(e);
        // A device that answers with an error is there; only the property is missing.
        if (err.code === 'Timeout' || err.code === 'Offline') throw err;
        if (err.detail?.errorCodeName === 'unknown-object') throw new DriverError('BadAddress', `device ${c.deviceId} is not at ${endpoint}`, { detail: err.detail });
        return undefined;
      }
    };
    const maxApdu = c.maxApdu ?? (await readNumber(PROP.maxApdu)) ?? 480;
    const segmentation = (await readNumber(PROP.segmentation)) ?? SEGMENTATION.NONE;
    this.#ctx.log.debug({ deviceId: c.deviceId, endpoint, maxApdu, segmentation }, 'BACnet device found');
    return { deviceId: c.deviceId, endpoint, maxApdu, segmentation, rpm: c.rpm === 'never' ? 'no' : 'unknown', maxPoints: c.maxPointsPerRequest };
  }

  /** Who-Is for exactly this device instance (§16.10), to the broadcast address or through the BBMD. */
  async #whoIs(c: BacnetConnection, signal: AbortSignal): Promise<string> {
    for (let attempt = 0; attempt <= c.retries; attempt++) {
      if (this.#state !== 'open' || signal.aborted) throw new DriverError('Offline', 'the BACnet session is closed');
      const found = await new Promise<string | undefined>((resolve) => {
        const timer = this.#ctx.clock.setTimeout(() => done(undefined), c.timeout);
        const onIAm = (m: { payload: { deviceId: number; address?: string }; header?: { sender?: { address?: string } } }) => {
          if (m.payload.deviceId === c.deviceId) done(m.header?.sender?.address ?? m.payload.address);
        };
        const done = (v: string | undefined) => {
          this.#ctx.clock.clearTimeout(timer);
          this.#client.off('iAm', onIAm);
          resolve(v);
        };
        this.#client.on('iAm', onIAm);
        this.requests.whoIs++;
        const range = { lowLimit: c.deviceId, highLimit: c.deviceId };
        if (c.bbmd !== undefined) this.#client.whoIsThroughBBMD({ address: hostPort(c.bbmd.address, c.bbmd.port) }, range);
        else this.#client.whoIs({ address: hostPort(c.broadcastAddress, c.port) }, range);
      });
      if (found !== undefined) return found;
    }
    throw new DriverError('Timeout', `no I-Am from device ${c.deviceId} (Who-Is to ${c.bbmd ? `BBMD ${c.bbmd.address}` : c.broadcastAddress})`);
  }

  /** Registers as a foreign device (§J.5.2.1) and renews at half the TTL. */
  async #registerForeign(c: BacnetConnection): Promise<void> {
    const bbmd = c.bbmd!;
    const ttl = Math.round(bbmd.ttl / 1000);
    try {
      await this.#client.registerForeignDevice({ address: hostPort(bbmd.address, bbmd.port) }, ttl);
    } catch (e) {
      throw new DriverError('Offline', `BBMD ${bbmd.address}:${bbmd.port} refused or did not answer the foreign-device registration`, { cause: e });
    }
    const renew = () => {
      this.#bbmdTimer = this.#ctx.clock.setTimeout(() => {
        if (this.#state !== 'open') return;
        this.#client.registerForeignDevice({ address: hostPort(bbmd.address, bbmd.port) }, ttl).then(renew, (e: unknown) => {
          this.#lost(`BBMD re-registration failed: ${e instanceof Error ? e.message : String(e)}`);
        });
      }, bbmd.ttl / 2);
    };
    renew();
  }

  #limits(c: BacnetConnection, info: DeviceInfo | undefined): BatchLimits {
    const seg = info?.segmentation;
    return {
      maxApdu: info?.maxApdu ?? c.maxApdu ?? 480,
      segmentedReplies: seg === SEGMENTATION.BOTH || seg === SEGMENTATION.TRANSMIT,
      maxPoints: info?.rpm === 'no' ? 1 : (info?.maxPoints ?? c.maxPointsPerRequest),
      stringBudget: c.maxStringLength,
      statusFlags: c.statusFlags,
    };
  }

  // ---- reads ----

  async #readBatch(device: Device, info: DeviceInfo, batch: readonly ReadItem[], signal: AbortSignal): Promise<ReadResult[]> {
    if (info.rpm === 'no') return this.#readSingly(device, info, batch, signal);
    const c = device.connection;
    const specs = rpmSpecs(batch, c.statusFlags);
    let ack;
    try {
      ack = await this.#call(c, (cl) => {
        this.requests.readPropertyMultiple++;
        return cl.readPropertyMultiple({ address: info.endpoint }, specs);
      }, signal);
    } catch (e) {
      const err = toBacnetError(e);
      if (err.code === 'Timeout' || err.code === 'Offline') throw err;
      if (isServiceUnsupported(err)) {
        info.rpm = 'no';
        this.#ctx.log.warn({ deviceId: info.deviceId, code: err.code, error: err.message }, 'BACnet: the device rejects ReadPropertyMultiple; using ReadProperty');
        return this.#readSingly(device, info, batch, signal);
      }
      if (isTooLong(err) && batch.length > 1) {
        info.maxPoints = Math.max(1, Math.floor(batch.length / 2));
        this.#ctx.log.warn({ deviceId: info.deviceId, maxPoints: info.maxPoints }, 'BACnet: answer too long for the device; smaller batches from now on');
        const mid = Math.ceil(batch.length / 2);
        return [...(await this.#readBatch(device, info, batch.slice(0, mid), signal)), ...(await this.#readBatch(device, info, batch.slice(mid), signal))];
      }
      // Anything else refused the whole request: ReadProperty tells which points are at fault.
      return this.#readSingly(device, info, batch, signal);
    }
    info.rpm = 'yes';
    const found = new Map<string, AppData[]>();
    for (const obj of ack.values) {
      for (const v of obj.values) found.set(propKey(obj.objectId, v.id, v.index), v.value as AppData[]);
    }
    const ts = this.#ctx.clock.now();
    return batch.map((i) => {
      const values = found.get(propKey({ type: i.objectType, instance: i.instance }, i.propertyId, i.arrayIndex ?? ARRAY_ALL));
      const flags = c.statusFlags && i.propertyId === PROP.presentValue ? found.get(propKey({ type: i.objectType, instance: i.instance }, PROP.statusFlags, ARRAY_ALL)) : undefined;
      if (values === undefined) return { id: i.point.id, quality: 'bad', error: { code: 'Protocol', message: 'the property is missing from the ReadPropertyMultiple answer' }, ts };
      return toResult(i, values, flags, ts);
    });
  }

  /** ReadProperty per item (plus status-flags once per object with a present-value point). */
  async #readSingly(device: Device, info: DeviceInfo, batch: readonly ReadItem[], signal: AbortSignal): Promise<ReadResult[]> {
    const c = device.connection;
    const flagsOf = new Map<string, AppData[] | undefined>();
    const out: ReadResult[] = [];
    for (const i of batch) {
      const objectId = { type: i.objectType, instance: i.instance };
      let values: AppData[];
      try {
        values = await this.#readProperty(c, info, objectId, i.propertyId, i.arrayIndex, signal);
      } catch (e) {
        const err = toBacnetError(e);
        if (err.code === 'Timeout' || err.code === 'Offline') throw err;
        out.push({ id: i.point.id, quality: 'bad', error: pointError(err), ts: this.#ctx.clock.now() });
        continue;
      }
      let flags: AppData[] | undefined;
      if (c.statusFlags && i.propertyId === PROP.presentValue) {
        const k = objectKey(i);
        if (!flagsOf.has(k)) {
          try {
            flagsOf.set(k, await this.#readProperty(c, info, objectId, PROP.statusFlags, undefined, signal));
          } catch (e) {
            const err = toBacnetError(e);
            if (err.code === 'Timeout' || err.code === 'Offline') throw err;
            flagsOf.set(k, undefined); // no status flags: quality from the value alone
          }
        }
        flags = flagsOf.get(k);
      }
      out.push(toResult(i, values, flags, this.#ctx.clock.now()));
    }
    return out;
  }

  async #readProperty(c: BacnetConnection, info: DeviceInfo, objectId: ObjectId, prop: number, index: number | undefined, signal: AbortSignal): Promise<AppData[]> {
    const r = await this.#call(c, (cl) => {
      this.requests.readProperty++;
      return cl.readProperty({ address: info.endpoint }, objectId, prop, index === undefined ? {} : { arrayIndex: index });
    }, signal);
    return r.values as AppData[];
  }

  async #writeValue(device: Device, info: DeviceInfo, point: BPoint, value: AppData, signal: AbortSignal): Promise<WriteResult> {
    const c = device.connection;
    const a = point.address;
    const priority = a.priority ?? c.priority;
    try {
      await this.#call(c, (cl) => {
        this.requests.writeProperty++;
        return cl.writeProperty({ address: info.endpoint }, { type: a.objectType, instance: a.instance + c.addressOffset }, a.propertyId, [value as never], {
          priority,
          ...(a.arrayIndex !== undefined ? { arrayIndex: a.arrayIndex } : {}),
        });
      }, signal);
      return { id: point.id, ok: true };
    } catch (e) {
      const err = toBacnetError(e);
      if (err.code === 'Timeout' || err.code === 'Offline') throw err;
      return { id: point.id, ok: false, error: pointError(err) };
    }
  }

  // ---- COV plumbing ----

  #covHost(): CovHost {
    return {
      clock: this.#ctx.clock,
      log: this.#ctx.log,
      nextProcessId: () => {
        const id = this.#nextProcessId;
        this.#nextProcessId = (this.#nextProcessId % 0xfffffffe) + 1;
        return id;
      },
      onNotification: (processId, target) => this.#intake.register(processId, target),
      subscribeCov: async (device, objectId, processId, confirmed, lifetimeSec, cancel) => {
        const info = await this.deviceInfo(device, AbortSignal.timeout(device.connection.timeout * 4 + 1000));
        await this.#call(device.connection, (cl) => {
          this.requests.subscribeCov++;
          return cl.subscribeCov({ address: info.endpoint }, objectId, processId, cancel, confirmed, lifetimeSec);
        }, AbortSignal.timeout(device.connection.timeout * (device.connection.retries + 1) + 1000));
      },
      readPoints: (device, points) => this.read(device, points, AbortSignal.timeout(device.connection.timeout * 4 + 1000)),
    };
  }

  /**
   * The COV fast path, run for every datagram before the library: a COV notification from a
   * directly connected device is acknowledged at once when confirmed (a prebuilt SimpleACK) and
   * queued raw (see cov-intake.ts); anything else goes to the library.
   */
  readonly #intercept = (msg: Buffer, from: dgram.RemoteInfo): boolean => {
    const f = peekCovFrame(msg);
    if (f.kind === 'incomplete') return false;
    if (f.kind === 'error') {
      this.#intake.malformed();
      return true;
    }
    const v = f.value;
    if (v === undefined) return false;
    if (v.confirmed) {
      this.#transport.sendTo(encodeSimpleAck(v.invokeId, SERVICE_CONFIRMED_COV_NOTIFICATION), from.address, from.port);
      this.#intake.acked();
    }
    this.#intake.offerRaw(v.subscriberProcessId, msg, v.serviceOffset, v.serviceLength);
    return true;
  };

  #offerDecoded(payload: CovPayload | undefined): void {
    if (payload === undefined) this.#intake.malformed();
    else this.#intake.offerDecoded(payload);
  }

  // ---- requests ----

  /** One confirmed request: a window slot, then attempts up to `retries` + 1 on timeout. */
  #call<T>(c: BacnetConnection, op: (client: BacnetClient) => Promise<T>, signal: AbortSignal): Promise<T> {
    return this.#gate.run(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.#once(c, op, signal);
        } catch (e) {
          const err = toBacnetError(e);
          this.#ctx.metrics.count('bacnet_request_errors_total', { code: err.code });
          if (err.code !== 'Timeout' || attempt >= c.retries || this.#state !== 'open' || signal.aborted) throw err;
        }
      }
    });
  }

  #once<T>(c: BacnetConnection, op: (client: BacnetClient) => Promise<T>, signal: AbortSignal): Promise<T> {
    if (this.#state !== 'open') return Promise.reject(new DriverError('Offline', `the BACnet session is ${this.#state}`));
    if (signal.aborted) return Promise.reject(new DriverError('Offline', 'the request was aborted'));
    const { clock } = this.#ctx;
    this.#ctx.metrics.count('bacnet_requests_total');
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (settle: () => void) => {
        if (done) return;
        done = true;
        clock.clearTimeout(timer);
        this.#pending.delete(fail);
        signal.removeEventListener('abort', onAbort);
        settle();
      };
      const fail = (e: DriverError) => finish(() => reject(e));
      const onAbort = () => fail(new DriverError('Offline', 'the request was aborted'));
      this.#pending.add(fail);
      signal.addEventListener('abort', onAbort, { once: true });
      // The library times requests out after apduTimeout (set at open); this backstop covers a
      // device whose timeout is shorter than the link's and a library that never settles.
      const timer = clock.setTimeout(() => fail(new DriverError('Timeout', `no answer within ${c.timeout} ms`)), c.timeout + 250);
      let request: Promise<T>;
      try {
        request = op(this.#client);
      } catch (e) {
        fail(toBacnetError(e));
        return;
      }
      request.then(
        (v) => finish(() => resolve(v)),
        (e: unknown) => fail(toBacnetError(e)),
      );
    });
  }

  #failPending(e: DriverError): void {
    for (const fail of [...this.#pending]) fail(e);
  }

  #lost(message: string): void {
    if (this.#state !== 'open') return;
    this.#state = 'lost';
    const err = new DriverError('Offline', message);
    this.#failPending(err);
    for (const s of [...this.#subscriptions]) s.stop();
    this.#onLost(pointError(err));
  }
}

function propKey(o: ObjectId, prop: number, index: number): string {
  return `${o.type}:${o.instance}/${prop}/${index}`;
}

/** The object specifications of one ReadPropertyMultiple (§15.7.1.1), status-flags added per object. */
function rpmSpecs(batch: readonly ReadItem[], statusFlags: boolean): { objectId: ObjectId; properties: { id: number; index: number }[] }[] {
  const byObject = new Map<string, { objectId: ObjectId; properties: { id: number; index: number }[] }>();
  for (const i of batch) {
    const k = objectKey(i);
    let spec = byObject.get(k);
    if (spec === undefined) byObject.set(k, (spec = { objectId: { type: i.objectType, instance: i.instance }, properties: [] }));
    if (!spec.properties.some((p) => p.id === i.propertyId && p.index === (i.arrayIndex ?? ARRAY_ALL))) spec.properties.push({ id: i.propertyId, index: i.arrayIndex ?? ARRAY_ALL });
    if (statusFlags && i.propertyId === PROP.presentValue && !spec.properties.some((p) => p.id === PROP.statusFlags)) spec.properties.push({ id: PROP.statusFlags, index: ARRAY_ALL });
  }
  return [...byObject.values()];
}
