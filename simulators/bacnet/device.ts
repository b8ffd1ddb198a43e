/**
 * One simulated BACnet/IP device on its own UDP socket, built from a compiled device (the
 * gateway's own model + access template): one object per distinct (type, instance) of its
 * points, values from the common generators (an attribute's generator through the inverted
 * mapping, else one per point), and the services a gateway uses: Who-Is/I-Am, ReadProperty,
 * ReadPropertyMultiple (or a Reject, to test the fallback), WriteProperty with priorities, and
 * SubscribeCOV with confirmed or unconfirmed notifications. Faults: stop answering, reject
 * RPM, refuse COV.
 */
import type { CompiledDevice, Mapping, ModelProperty } from '../../src/devicemodel/compiled.ts';
import { coerceToModel } from '../../src/devicemodel/coerce.ts';
import { invertMapping } from '../../src/devicemodel/mapping.ts';
import type { BacnetAddress } from '../../src/drivers/bacnet/address.ts';
import { openClient } from '../../src/drivers/bacnet/client.ts';
import type { BacnetClient } from '../../src/drivers/bacnet/client.ts';
import { ARRAY_ALL, ERROR_CLASS, ERROR_CODE, MAX_APDU_IP, OBJECT_TYPES, PROP, REJECT_REASON, ABORT_REASON, SEGMENTATION, SERVICE } from '../../src/drivers/bacnet/constants.ts';
import type { UdpTransport } from '../../src/drivers/bacnet/transport.ts';
import type { AppData } from '../../src/drivers/bacnet/values.ts';
import { createGenerator } from '../common/generators.ts';
import type { GeneratedValue, Generator, GeneratorSpecInput } from '../common/generators.ts';
import { defaultGeneratorSpec } from '../common/defaults.ts';
import { deriveSeed } from '../common/prng.ts';
import { readDeviceProperty, SimObject, SUPPORTED_TYPES } from './objects.ts';
import type { BacError, PropResult } from './objects.ts';
import { ackOctets } from './encode.ts';

/** Faults of a simulated device. */
export interface BacnetFaults {
  /** Ignore every datagram (a dead device). */
  stopAnswering: boolean;
  /** Answer ReadPropertyMultiple with Reject "unrecognized service" (a device without RPM). */
  rejectRpm: boolean;
  /** Answer SubscribeCOV with Reject "unrecognized service" (a device without COV). */
  rejectCov: boolean;
}

/** A COV subscription held by the device (§13.14). */
export interface CovSub {
  readonly subscriber: string;
  readonly processId: number;
  readonly objectKey: string;
  readonly confirmed: boolean;
  readonly lifetime: number;
  /** Epoch ms when it lapses (Infinity for lifetime 0). */
  expiresAt: number;
  /** How many times it was (re)subscribed. */
  count: number;
}

/** A write as received, for tests. */
export interface ReceivedWrite {
  readonly object: string;
  readonly property: number;
  readonly priority: number;
  readonly tag: number;
  readonly value: unknown;
  readonly ok: boolean;
}

/** Options of one device. */
export interface SimDeviceOptions {
  readonly host: string;
  readonly port: number;
  readonly deviceId: number;
  readonly maxApdu: number;
  readonly segmentation: number;
  readonly seed: number;
  readonly generators?: Readonly<Record<string, GeneratorSpecInput>>;
  readonly faults?: Partial<BacnetFaults>;
  readonly baseDir?: string;
}

type Drive = { kind: 'attribute'; mapping: Mapping; prop: ModelProperty | undefined; gen: Generator; obj: SimObject } | { kind: 'point'; gen: Generator; obj: SimObject };

const key = (type: number, instance: number) => `${type}:${instance}`;

/** One simulated device; see the file comment. */
export class BacnetSimDevice {
  readonly name: string;
  readonly deviceId: number;
  readonly maxApdu: number;
  readonly segmentation: number;
  readonly faults: BacnetFaults = { stopAnswering: false, rejectRpm: false, rejectCov: false };
  /** Requests received by service (answered or not). */
  readonly stats = { whoIs: 0, readProperty: 0, readPropertyMultiple: 0, writeProperty: 0, subscribeCov: 0, covNotifications: 0, covAcked: 0 };
  readonly writes: ReceivedWrite[] = [];
  readonly subscriptions = new Map<string, CovSub>();
  readonly #objects = new Map<string, SimObject>();
  readonly #byPoint = new Map<string, SimObject>();
  readonly #drives: Drive[] = [];
  readonly #held = new Set<SimObject>();
  /** Last notified present-value/flags per object, to detect changes. */
  readonly #lastCov = new Map<string, string>();
  readonly #opts: SimDeviceOptions;
  #client: BacnetClient | undefined;
  #transport: UdpTransport | undefined;
  #port: number;
  #lastT = 0;

  constructor(device: CompiledDevice, opts: SimDeviceOptions) {
    this.name = device.name;
    this.deviceId = opts.deviceId;
    this.maxApdu = opts.maxApdu;
    this.segmentation = opts.segmentation;
    this.#opts = opts;
    this.#port = opts.port;
    Object.assign(this.faults, opts.faults ?? {});
    const offset = Number((device.connection as { addressOffset?: unknown }).addressOffset ?? 0);
    for (const p of device.points) {
      const a = p.address as BacnetAddress;
      if (!SUPPORTED_TYPES.has(a.objectType)) continue; // reads get unknown-object: a test of bad addresses
      const k = key(a.objectType, a.instance + offset);
      let o = this.#objects.get(k);
      if (o === undefined) this.#objects.set(k, (o = new SimObject(a.objectType, a.instance + offset, p.name)));
      if (a.propertyId === PROP.presentValue) {
        this.#byPoint.set(p.id, o);
        if (!this.#byPoint.has(p.name)) this.#byPoint.set(p.name, o);
      }
    }
    this.#assignGenerators(device, opts);
    this.tick(0);
  }

  #assignGenerators(device: CompiledDevice, opts: SimDeviceOptions): void {
    const configured = opts.generators ?? {};
    const make = (spec: GeneratorSpecInput, k: string): Generator => createGenerator(spec, deriveSeed(opts.seed, device.name, k), opts.baseDir === undefined ? {} : { baseDir: opts.baseDir });
    const driven = new Set<SimObject>();
    for (const m of device.mappings) {
      const prop = device.model.get(m.attribute);
      const spec = configured[m.attribute] ?? (prop !== undefined ? defaultGeneratorSpec(prop, m.attribute) : undefined);
      const probe = prop?.type === 'bool' ? true : prop?.type === 'string' ? 'x' : 1;
      const inv = invertMapping(m, m.kind === 'calculate' ? 1 : probe);
      const obj = inv.ok ? this.#byPoint.get(inv.pointId) : undefined;
      if (!inv.ok || obj === undefined || driven.has(obj) || spec === undefined) continue;
      driven.add(obj);
      this.#drives.push({ kind: 'attribute', mapping: m, prop, gen: make(spec, m.attribute), obj });
    }
    for (const p of device.points) {
      const obj = this.#byPoint.get(p.id);
      if (obj === undefined || driven.has(obj)) continue;
      const spec = configured[p.name] ?? configured[p.id] ?? defaultGeneratorSpec({ type: p.type }, p.name);
      if (spec === undefined) continue;
      driven.add(obj);
      this.#drives.push({ kind: 'point', gen: make(spec, `#point:${p.id}`), obj });
    }
  }

  /** The UDP port the device answers on (after start). */
  get port(): number {
    return this.#port;
  }

  /** `host:port` of the device. */
  get address(): string {
    return `${this.#opts.host}:${this.#port}`;
  }

  /** All objects (not the device object). */
  objects(): SimObject[] {
    return [...this.#objects.values()];
  }

  /** The object a point (name or id) reads the present-value of. */
  object(point: string): SimObject {
    const o = this.#byPoint.get(point);
    if (o === undefined) throw new Error(`${this.name}: no present-value point "${point}"`);
    return o;
  }

  /** Moves every object not held to its generator's value at `tMs`, then sends COV notifications. */
  tick(tMs: number): void {
    this.#lastT = tMs;
    for (const d of this.#drives) {
      if (this.#held.has(d.obj)) continue;
      const v: GeneratedValue = d.gen(tMs);
      if (d.kind === 'point') {
        d.obj.setGenerated(v);
        continue;
      }
      const attr = d.prop !== undefined ? coerceToModel(d.prop, v) : { ok: true as const, value: v };
      if (!attr.ok) continue;
      const inv = invertMapping(d.mapping, attr.value as GeneratedValue);
      if (inv.ok) d.obj.setGenerated(inv.value);
    }
    this.notifyChanges();
  }

  /** Sets a point's generated value (relinquish-default of commandable objects) and holds it. */
  setValue(point: string, value: number | boolean | string): void {
    const o = this.object(point);
    o.setGenerated(value);
    this.#held.add(o);
    this.notifyChanges();
  }

  /** Lets held objects follow their generators again. */
  reset(): void {
    this.#held.clear();
    this.tick(this.#lastT);
  }

  /** Changes a point's status flags (COV subscribers are told). */
  setFlags(point: string, flags: Partial<SimObject['flags']>): void {
    Object.assign(this.object(point).flags, flags);
    this.notifyChanges();
  }

  /** Sets faults; fields not given keep their value. */
  setFaults(f: Partial<BacnetFaults>): void {
    Object.assign(this.faults, f);
  }

  // ---- UDP ----

  async start(): Promise<void> {
    if (this.#client !== undefined) return;
    const { client, transport } = await openClient({ port: this.#port, interface: this.#opts.host, broadcastAddress: `${this.#opts.host}:${this.#port}`, apduTimeout: 2000 });
    this.#client = client;
    this.#transport = transport;
    this.#port = transport.address?.port ?? this.#port;
    this.#serve(client);
  }

  async stop(): Promise<void> {
    const c = this.#client;
    const t = this.#transport;
    this.#client = undefined;
    this.#transport = undefined;
    if (c === undefined || t === undefined) return;
    // Wait for the socket to close so that a restart can bind the same port.
    await new Promise<void>((resolve) => {
      t.once('close', () => resolve());
      c.close();
      setTimeout(resolve, 200).unref();
    });
  }

  #serve(client: BacnetClient): void {
    client.on('whoIs', (c) => {
      this.stats.whoIs++;
      if (this.faults.stopAnswering) return;
      const { lowLimit, highLimit } = c.payload as { lowLimit?: number; highLimit?: number };
      if (lowLimit !== undefined && highLimit !== undefined && (this.deviceId < lowLimit || this.deviceId > highLimit)) return;
      if (c.header?.sender) client.iAmResponse(c.header.sender, this.deviceId, this.segmentation, 999);
    });
    client.on('readProperty', (c) => {
      this.stats.readProperty++;
      if (this.faults.stopAnswering || c.header?.sender === undefined || c.invokeId === undefined) return;
      const { objectId, property } = c.payload;
      const r = this.#read(objectId, property.id, property.index ?? ARRAY_ALL);
      if (r.ok) client.readPropertyResponse(c.header.sender, c.invokeId, objectId, { id: property.id, index: property.index ?? ARRAY_ALL }, r.values as never);
      else client.errorResponse(c.header.sender, SERVICE.READ_PROPERTY, c.invokeId, r.error.errorClass, r.error.errorCode);
    });
    client.on('readPropertyMultiple', (c) => {
      this.stats.readPropertyMultiple++;
      if (this.faults.stopAnswering || c.header?.sender === undefined || c.invokeId === undefined) return;
      if (this.faults.rejectRpm) return this.#sendPdu(c.header.sender.address, [0x60, c.invokeId, REJECT_REASON.UNRECOGNIZED_SERVICE]);
      const values = c.payload.properties.map((spec) => ({
        objectId: spec.objectId,
        values: spec.properties.map((p) => {
          const index = p.index ?? ARRAY_ALL;
          const r = this.#read(spec.objectId, p.id, index);
          return { property: { id: p.id, index }, value: r.ok ? r.values : [{ value: { type: 'BacnetError', errorClass: r.error.errorClass, errorCode: r.error.errorCode } }] };
        }),
      }));
      // An answer longer than the device can send unsegmented is aborted (§20.1.9, §5.4.5.3);
      // this simulator never segments, and no answer may exceed BACnet/IP's 1476 octets.
      const limit = Math.min(this.maxApdu, MAX_APDU_IP);
      if (ackOctets(values) > limit) return this.#sendPdu(c.header.sender.address, [0x71, c.invokeId, this.segmentation === SEGMENTATION.NONE ? ABORT_REASON.SEGMENTATION_NOT_SUPPORTED : ABORT_REASON.BUFFER_OVERFLOW]);
      client.readPropertyMultipleResponse(c.header.sender, c.invokeId, values as never);
    });
    client.on('writeProperty', (c) => {
      this.stats.writeProperty++;
      if (this.faults.stopAnswering || c.header?.sender === undefined || c.invokeId === undefined) return;
      const { objectId, value } = c.payload;
      const o = this.#objects.get(key(objectId.type, objectId.instance));
      const first = value.value[0] as AppData | undefined;
      const r: PropResult = o === undefined ? { ok: false, error: { errorClass: ERROR_CLASS.OBJECT, errorCode: ERROR_CODE.UNKNOWN_OBJECT } } : o.write(value.property.id, value.property.index ?? ARRAY_ALL, value.value as AppData[], value.priority || 16);
      this.writes.push({ object: `${objectId.type}:${objectId.instance}`, property: value.property.id, priority: value.priority, tag: first?.type ?? -1, value: first?.value, ok: r.ok });
      if (r.ok) client.simpleAckResponse(c.header.sender, SERVICE.WRITE_PROPERTY, c.invokeId);
      else client.errorResponse(c.header.sender, SERVICE.WRITE_PROPERTY, c.invokeId, r.error.errorClass, r.error.errorCode);
      if (r.ok) this.notifyChanges();
    });
    client.on('subscribeCov', (c) => {
      this.stats.subscribeCov++;
      if (this.faults.stopAnswering || c.header?.sender === undefined || c.invokeId === undefined) return;
      const sender = c.header.sender.address ?? '';
      if (this.faults.rejectCov) return this.#sendPdu(sender, [0x60, c.invokeId, REJECT_REASON.UNRECOGNIZED_SERVICE]);
      const p = c.payload as { subscriberProcessId: number; monitoredObjectId: { type: number; instance: number }; issueConfirmedNotifications?: boolean; lifetime?: number; cancellationRequest?: boolean };
      const o = this.#objects.get(key(p.monitoredObjectId.type, p.monitoredObjectId.instance));
      const deny = (e: BacError) => client.errorResponse(c.header!.sender, SERVICE.SUBSCRIBE_COV, c.invokeId!, e.errorClass, e.errorCode);
      if (o === undefined) return deny({ errorClass: ERROR_CLASS.OBJECT, errorCode: ERROR_CODE.UNKNOWN_OBJECT });
      if (!o.covCapable) return deny({ errorClass: ERROR_CLASS.OBJECT, errorCode: ERROR_CODE.OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED });
      const subKey = `${sender}|${p.subscriberProcessId}|${key(o.type, o.instance)}`;
      if (p.cancellationRequest) {
        this.subscriptions.delete(subKey);
        client.simpleAckResponse(c.header.sender, SERVICE.SUBSCRIBE_COV, c.invokeId);
        return;
      }
      const lifetime = p.lifetime ?? 0;
      const prev = this.subscriptions.get(subKey);
      const sub: CovSub = { subscriber: sender, processId: p.subscriberProcessId, objectKey: key(o.type, o.instance), confirmed: p.issueConfirmedNotifications === true, lifetime, expiresAt: lifetime > 0 ? Date.now() + lifetime * 1000 : Number.POSITIVE_INFINITY, count: (prev?.count ?? 0) + 1 };
      this.subscriptions.set(subKey, sub);
      client.simpleAckResponse(c.header.sender, SERVICE.SUBSCRIBE_COV, c.invokeId);
      // A new subscription gets the current values at once (§13.14.1.1 "initial notification").
      this.#notify(o, sub);
    });
  }

  #read(objectId: { type: number; instance: number }, prop: number, index: number): PropResult {
    if (objectId.type === OBJECT_TYPES.device && (objectId.instance === this.deviceId || objectId.instance === 4_194_303)) {
      return readDeviceProperty({ deviceId: this.deviceId, name: this.name, maxApdu: this.maxApdu, segmentation: this.segmentation, vendorId: 999, objects: () => this.objects() }, prop, index);
    }
    const o = this.#objects.get(key(objectId.type, objectId.instance));
    if (o === undefined) return { ok: false, error: { errorClass: ERROR_CLASS.OBJECT, errorCode: ERROR_CODE.UNKNOWN_OBJECT } };
    return o.read(prop, index);
  }

  /** Sends a raw APDU (Reject, Abort) in a BVLC original-unicast + NPDU (§J.2, §6.2). */
  #sendPdu(to: string | undefined, apdu: number[]): void {
    if (to === undefined || this.#transport === undefined) return;
    const bytes = [0x81, 0x0a, 0, 0, 0x01, 0x00, ...apdu];
    bytes[3] = bytes.length;
    this.#transport.send(Buffer.from(bytes), bytes.length, to);
  }

  /** Notifies subscribers of objects whose present-value or status flags changed. */
  notifyChanges(): void {
    if (this.#client === undefined) return;
    const now = Date.now();
    // Subscriptions by object, built once per call: a device with hundreds of subscribed objects
    // would otherwise scan every subscription for every changed object.
    const byObject = new Map<string, CovSub[]>();
    for (const [k, sub] of this.subscriptions) {
      if (sub.expiresAt <= now) {
        this.subscriptions.delete(k);
        continue;
      }
      const list = byObject.get(sub.objectKey);
      if (list === undefined) byObject.set(sub.objectKey, [sub]);
      else list.push(sub);
    }
    for (const o of this.#objects.values()) {
      const fp = this.#fingerprint(o);
      const k = key(o.type, o.instance);
      if (this.#lastCov.get(k) === fp) continue;
      const prev = this.#lastCov.get(k);
      this.#lastCov.set(k, fp);
      if (prev === undefined) continue;
      for (const sub of byObject.get(k) ?? []) this.#notify(o, sub);
    }
  }

  #fingerprint(o: SimObject): string {
    const pv = o.presentValue();
    const v = typeof pv.value === 'number' && o.covIncrement > 0 ? Math.round(pv.value / o.covIncrement) : pv.value;
    return `${String(v)}|${JSON.stringify(o.flags)}`;
  }

  #notify(o: SimObject, sub: CovSub): void {
    const client = this.#client;
    if (client === undefined || this.faults.stopAnswering) return;
    this.#lastCov.set(key(o.type, o.instance), this.#fingerprint(o));
    const remaining = Number.isFinite(sub.expiresAt) ? Math.max(0, Math.round((sub.expiresAt - Date.now()) / 1000)) : 0;
    // CovNotify.encode writes an array index only when given (and then wrongly): leave it out.
    const values = [
      { property: { id: PROP.presentValue }, value: [o.presentValue()] },
      { property: { id: PROP.statusFlags }, value: o.read(PROP.statusFlags, ARRAY_ALL).ok ? (o.read(PROP.statusFlags, ARRAY_ALL) as { values: AppData[] }).values : [] },
    ];
    this.stats.covNotifications++;
    const objectId = { type: o.type, instance: o.instance };
    if (sub.confirmed) {
      client.confirmedCOVNotification({ address: sub.subscriber }, objectId, sub.processId, this.deviceId, remaining, values as never).then(
        () => void this.stats.covAcked++,
        () => undefined,
      );
    } else {
      client.unconfirmedCOVNotification({ address: sub.subscriber }, sub.processId, this.deviceId, objectId, remaining, values as never);
    }
  }
}
