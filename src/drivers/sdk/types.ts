/**
 * The driver API: what a protocol driver (built-in or plugin) implements and what the gateway
 * gives it. Ownership rules:
 * - The gateway owns links. It calls `connect`, keeps one state machine per link, reconnects with
 *   backoff, and calls `Session.close()` (which may be called twice). A driver never reconnects on
 *   its own; it reports a lost link through `onLost` or by throwing `Offline`/`Timeout`.
 * - The gateway serializes calls per link: at most `LinkSpec.window` read/write calls run on one
 *   session at once (1 for a serial bus), and writes go before queued reads.
 * - A failure of one point is a `bad` result for that point, never an exception that loses the
 *   rest. Throw only when the whole request failed (link down, timeout).
 */
import type { z } from 'zod';
import type { PointType, PointValue, Quality } from '../../devicemodel/types.ts';
import type { DriverErrorCode, DriverErrorDetail } from './errors.ts';

/** Semver of this API. A driver declares the range it was built for in `sdkVersion`. */
export const SDK_VERSION = '1.1.0';

/** Fields every connection schema must produce (durations already in milliseconds). */
export interface BaseConnection {
  /** Poll interval in ms (Baetyl `interval`). */
  readonly interval: number;
  /** Request timeout in ms (Baetyl `timeout`). */
  readonly timeout: number;
}

/** One point of a device: an access-template property with its parsed address. */
export interface Point<A = unknown> {
  /** The property's `id` in access_template.yml: the `x<id>` of mapping expressions. */
  readonly id: string;
  /** The property's `name` in access_template.yml. */
  readonly name: string;
  /** What the raw value decodes to. */
  readonly type: PointType;
  /** The `visitor.<driver>` object, parsed by the driver's `addressSchema`. */
  readonly address: A;
}

/** The device a call is for. Several devices may share one session (one link). */
export interface DeviceRef<C extends BaseConnection = BaseConnection> {
  readonly name: string;
  /** `accessConfig.<driver>`, parsed by the driver's `connectionSchema`. */
  readonly connection: C;
}

/** What went wrong for one point. */
export interface PointError {
  readonly code: DriverErrorCode;
  readonly message: string;
  readonly detail?: DriverErrorDetail;
}

/** The result for one point of a read (or a subscription push). */
export type ReadResult =
  | { readonly id: string; readonly quality: 'good' | 'uncertain'; readonly value: PointValue; readonly ts?: number }
  | { readonly id: string; readonly quality: 'bad'; readonly error: PointError; readonly ts?: number };

/** One value to write to one point (already reverse-mapped and typed as the point's type). */
export interface PointWrite<A = unknown> {
  readonly point: Point<A>;
  readonly value: PointValue;
}

/** The outcome of one point write. */
export type WriteResult =
  | { readonly id: string; readonly ok: true }
  | { readonly id: string; readonly ok: false; readonly error: PointError };

/** Receives values pushed by the device (monitored items, spontaneous frames, COV). */
export interface SubscriptionSink {
  /** New values; `ts` is the source timestamp when the protocol has one. */
  values(device: string, results: readonly ReadResult[]): void;
  /** The subscription broke; the gateway treats it as a lost link and resubscribes after reconnect. */
  error(device: string, error: PointError): void;
  /**
   * Events the device raised (ONVIF motion, tampering, alarms): event id → payload. The gateway
   * publishes them as `thing.event.post` on the device's `eventReport` topic. Since SDK 1.1.0;
   * a driver written for 1.0 simply never calls it.
   */
  event?(device: string, events: Readonly<Record<string, unknown>>, ts?: number): void;
}

/** Handle to stop a subscription. */
export interface Subscription {
  close(): Promise<void>;
}

/** An open connection to one link (a TCP endpoint, a serial bus, an OPC UA session…). */
export interface Session<C extends BaseConnection = BaseConnection, A = unknown> {
  /**
   * Reads the points of one device. Returns exactly one result per point, in any order.
   * Throws a DriverError only when the whole request failed.
   */
  read(device: DeviceRef<C>, points: readonly Point<A>[], signal: AbortSignal): Promise<ReadResult[]>;
  /** Writes values; one result per write. Absent when the driver is read-only. */
  write?(device: DeviceRef<C>, writes: readonly PointWrite<A>[], signal: AbortSignal): Promise<WriteResult[]>;
  /** Starts pushing values for the points; called again after every reconnect. */
  subscribe?(device: DeviceRef<C>, points: readonly Point<A>[], sink: SubscriptionSink): Promise<Subscription>;
  /**
   * Splits a device's points into the requests one poll makes (each inner array is one `read`
   * call). Pure with respect to I/O; may use what the session learned (e.g. addresses to isolate).
   * Without it the gateway reads all points in one call.
   */
  planReads?(device: DeviceRef<C>, points: readonly Point<A>[]): Point<A>[][];
  /** Closes the link. Idempotent; pending calls reject with `Offline`. */
  close(): Promise<void>;
}

/** Which devices share a link, and how many calls may be in flight on it. */
export interface LinkSpec {
  /** Devices whose connections give the same key share one session and one request queue. */
  readonly key: string;
  /** Calls in flight at once: 1 on a serial bus, up to the pipelining window on TCP. */
  readonly window: number;
}

/** Options for `connect`. */
export interface ConnectOptions {
  /** Aborted when the gateway gives up connecting or shuts down. */
  readonly signal: AbortSignal;
  /** Call once when the link breaks outside a call (socket closed, session lost). */
  readonly onLost: (error: PointError) => void;
}

/** A driver instance created by the gateway for its lifetime. */
export interface Driver<C extends BaseConnection = BaseConnection, A = unknown> {
  /** Opens a link; `connection` is that of the first device on the link. */
  connect(connection: C, options: ConnectOptions): Promise<Session<C, A>>;
  /** Releases driver-wide resources (shared sockets, workers). */
  close?(): Promise<void>;
}

/** What a driver can do; the gateway branches on these, never on a protocol name. */
export interface Capabilities {
  readonly read: boolean;
  readonly write: boolean;
  readonly subscribe: boolean;
  readonly discover: boolean;
  /** Reads of several points are batched into fewer requests. */
  readonly batch: boolean;
  /** Upper bound of points in one `read` call, if any. */
  readonly maxPointsPerRead?: number;
}

/** A pino-compatible logger subset. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Time as the gateway sees it (fake in tests). */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Monotonic milliseconds for durations. */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Counters a driver may bump; the gateway exports them. */
export interface DriverMetrics {
  count(name: string, labels?: Record<string, string>, by?: number): void;
}

/** What the gateway hands a driver at creation. */
export interface DriverContext {
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: DriverMetrics;
  /** Aborted when the gateway stops. */
  readonly signal: AbortSignal;
  /** The gateway's data directory (certificates, caches) for this driver. */
  readonly dataDir: string;
  /**
   * Publishes raw bytes on the gateway's broker (a camera snapshot on a topic the user named).
   * Resolves when the broker took it (QoS 1) or it was written (QoS 0); rejects when the link is
   * down or the topic is not a valid topic name. Optional (SDK 1.1): check before use.
   */
  readonly publish?: (topic: string, payload: Uint8Array | string, opts?: { readonly qos?: 0 | 1; readonly retain?: boolean }) => Promise<void>;
}

/**
 * The static descriptor a driver module exports (as its default export or `descriptor`).
 * `C` is the parsed connection, `A` the parsed point address.
 */
export interface DriverDescriptor<C extends BaseConnection = BaseConnection, A = unknown> {
  /** Unique id; also the key under `visitor` and `accessConfig` in Baetyl's files. */
  readonly id: string;
  /** The driver's own version. */
  readonly version: string;
  /** Semver range of the SDK this driver was built for, e.g. `^1.0.0`. */
  readonly sdkVersion: string;
  readonly title: string;
  /** Validates `accessConfig.<id>`; must produce {@link BaseConnection} fields. */
  readonly connectionSchema: z.ZodType<C>;
  /** Validates `visitor.<id>` of one access-template property. */
  readonly addressSchema: z.ZodType<A>;
  /**
   * Checks a point as a whole (address against the property's `type`), returning a message per
   * problem; `path` is relative to the property (e.g. `['visitor', 'modbus', 'quantity']`).
   */
  checkPoint?(point: Point<A>): { path: (string | number)[]; message: string }[];
  readonly capabilities: Capabilities;
  /** Which devices share a link and how many calls may overlap on it. */
  link(connection: C): LinkSpec;
  create(ctx: DriverContext): Driver<C, A>;
  /**
   * Loads what the driver needs before the gateway starts polling (a large protocol stack whose
   * first import blocks for seconds), so that a first connect later does not stall every other
   * device. Optional (SDK 1.1); a failure is logged and the connect reports its own error.
   */
  prepare?(): Promise<void>;
}

/** Quality helpers re-exported for drivers. */
export type { Quality, PointType, PointValue };
