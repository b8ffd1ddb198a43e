/**
 * Builders of the Baetyl message envelope `{kind, meta, content}` that fieldgate publishes
 * (baetyl-go `spec/v1/message.go`; blink wrapper `dmcontext/blink.go`). Pure: no sockets, no clock
 * (the caller passes `ts`); the only impurity is the random `reqId` of each blink.
 *
 * See docs/topics.md for every topic, its direction and an example of each payload.
 */
import { randomUUID } from 'node:crypto';
import type { CompiledDevice } from '../../devicemodel/compiled.ts';
import { stringifyJson } from '../../devicemodel/json.ts';

// The splitter lives in its own file; re-exported here because callers build and split together.
export { splitProperties, splitPropertyMap, byteLength } from './split.ts';
export type { SplitResult } from './split.ts';

/** Baetyl's constant `nodeProduct` (baetyl-go `dmcontext/config.go`). */
export const NODE_PRODUCT = 'BIE-Product';
/** Blink `version` (baetyl-go `DefaultVersion`). */
export const BLINK_VERSION = '1.0';

/** Blink methods (baetyl-go `dmcontext/blink.go`). */
export const Method = {
  propertyPost: 'thing.property.post',
  propertyInvoke: 'thing.property.invoke',
  propertyGet: 'thing.property.get',
  eventPost: 'thing.event.post',
  lifecyclePost: 'thing.lifecycle.post',
} as const;

/** The `meta` of every device message (baetyl-gateway `genMetadata`). */
export type Meta = {
  readonly device: string;
  readonly deviceProduct: string;
  readonly accessTemplate: string;
  /** Edge node name; `''` when the node has no name (Baetyl does the same). */
  readonly node: string;
  readonly nodeProduct: 'BIE-Product';
};

/** The Baetyl envelope. `content` is a blink for v2 messages, a plain object otherwise. */
export interface Envelope<C = unknown> {
  readonly kind: string;
  readonly meta: Meta;
  readonly content: C;
}

/** The v2 blink inside `content.blink`. Absent optional fields are omitted (Go `omitempty`). */
export interface Blink {
  readonly reqId: string;
  readonly method: string;
  readonly version: string;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly properties?: Record<string, unknown> | readonly string[];
  readonly events?: Record<string, unknown>;
  readonly params?: Record<string, unknown>;
}

/** The `meta` for a device on this node. */
export function metaOf(device: CompiledDevice, node: string): Meta {
  return {
    device: device.name,
    deviceProduct: device.product,
    accessTemplate: device.accessTemplate,
    node,
    nodeProduct: NODE_PRODUCT,
  };
}

/** A blink with a fresh UUIDv4 `reqId` (or the given one, to answer a request). */
function blink(method: string, ts: number, body: Partial<Blink>, reqId?: string): { blink: Blink } {
  return { blink: { reqId: reqId ?? randomUUID(), method, version: BLINK_VERSION, timestamp: ts, ...body } };
}

/** `deviceReport` on the `report` topic: blink `thing.property.post` with the `properties` map. */
export function reportMessage(meta: Meta, properties: Record<string, unknown>, ts: number): Envelope<{ blink: Blink }> {
  return { kind: 'deviceReport', meta, content: blink(Method.propertyPost, ts, { properties }) };
}

/** `thing.lifecycle.post` on the `lifecycleReport` topic: blink with `params: {online_state}`. */
export function lifecycleMessage(meta: Meta, online: boolean, ts: number): Envelope<{ blink: Blink }> {
  return {
    kind: 'thing.lifecycle.post',
    meta,
    content: blink(Method.lifecyclePost, ts, { params: { online_state: online } }),
  };
}

/** `thing.event.post` on the `eventReport` topic: blink with the `events` map (event id → payload). */
export function eventMessage(meta: Meta, events: Record<string, unknown>, ts: number): Envelope<{ blink: Blink }> {
  return { kind: 'thing.event.post', meta, content: blink(Method.eventPost, ts, { events }) };
}

/**
 * The answer to a read-now request (`thing.property.get` or a `deviceEvent` of type `report`), on
 * the `get` topic: same shape as a report (`deviceReport`, `thing.property.post`). When `reqId` is
 * given (the request's), the answer carries it, so the requester can match the two; otherwise a
 * fresh one is made.
 */
export function getReportMessage(
  meta: Meta,
  properties: Record<string, unknown>,
  ts: number,
  reqId?: string,
): Envelope<{ blink: Blink }> {
  return { kind: 'deviceReport', meta, content: blink(Method.propertyPost, ts, { properties }, reqId) };
}

/** A shadow as Baetyl core sends it on `getResponse` (v1 doc `8l13d4b5b`). */
export interface ShadowContent {
  readonly name: string;
  readonly report: Record<string, unknown>;
  readonly desire: Record<string, unknown>;
}

/** `response` with content `{name, report, desire}` (no blink), as on the `getResponse` topic. */
export function shadowResponseMessage(meta: Meta, shadow: ShadowContent): Envelope<ShadowContent> {
  return { kind: 'response', meta, content: { name: shadow.name, report: shadow.report, desire: shadow.desire } };
}

/** Why a command (delta, property get, read now) was rejected or failed. */
export interface ErrorInfo {
  /** The `reqId` of the request being answered, when it had one. */
  readonly reqId?: string;
  /** A stable code: a DriverError code, or a command error code of the gateway. */
  readonly code: string;
  readonly message: string;
  /** The property the error is about, when there is one. */
  readonly property?: string;
}

/** Content of fieldgate's `error` message; absent fields are omitted. */
export interface ErrorContent {
  readonly reqId?: string;
  readonly code: string;
  readonly message: string;
  readonly property?: string;
  /** Epoch milliseconds, when the caller gave one. */
  readonly timestamp?: number;
}

/**
 * fieldgate's addition (Baetyl has the `error` kind in `spec/v1/message.go` but no device use of
 * it): kind `error`, content `{reqId, code, message, property, timestamp}` (absent ones omitted).
 */
export function errorMessage(meta: Meta, err: ErrorInfo, ts?: number): Envelope<ErrorContent> {
  // Key order reqId, code, message, property, timestamp reads best in a log.
  const content = omitUndefined({
    reqId: err.reqId,
    code: err.code,
    message: err.message,
    property: err.property,
    timestamp: ts,
  }) as unknown as ErrorContent;
  return { kind: 'error', meta, content };
}

function omitUndefined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

/** The payload text of an envelope: compact JSON, bigint as an exact number, non-finite as null. */
export function serialize(message: object): string {
  return stringifyJson(message);
}
