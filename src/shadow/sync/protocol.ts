/**
 * The edge↔cloud protocol of fieldgate (docs/cloud-protocol.md): topic names, and pure builders and
 * parsers of every message on the cloud link. No sockets, no clock (callers pass `ts`), no store.
 *
 * Envelopes are Baetyl's `{kind, meta, content}` (baetyl-go `spec/v1/message.go`); uplink contents
 * keep Baetyl's blink (`dmcontext/blink.go`) and add what a durable sync needs: a per-device
 * sequence (`epoch`, `seq`) so the cloud can drop duplicates and check order, and the shadow
 * versions. Versions and conflicts follow AWS IoT device shadows (desired `version`, `clientToken`,
 * accepted / rejected answers).
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue, Quality } from '../../devicemodel/types.ts';
import { stringifyJson } from '../../devicemodel/json.ts';
import { parseJsonExact } from '../../gateway/mqtt/jsonparse.ts';

/** First topic level of every fieldgate cloud topic. */
export const TOPIC_ROOT = 'fieldgate';
/** Baetyl's constant `nodeProduct`. */
export const NODE_PRODUCT = 'BIE-Product';
/** Blink `version` (baetyl-go `DefaultVersion`). */
export const BLINK_VERSION = '1.0';

/** Per-device topics: `fieldgate/{node}/shadow/{device}/{channel}`. */
export type Channel = 'report' | 'lifecycle' | 'desired' | 'desired/ack' | 'get';
const CHANNELS: readonly Channel[] = ['report', 'lifecycle', 'desired', 'desired/ack', 'get'];

/** `meta` of every message (baetyl-gateway `genMetadata`); unknown parts are `''` as in Baetyl. */
export interface Meta {
  readonly device: string;
  readonly deviceProduct: string;
  readonly accessTemplate: string;
  readonly node: string;
  readonly nodeProduct: string;
}

/** The Baetyl envelope. */
export interface Envelope<C> {
  readonly kind: string;
  readonly meta: Meta;
  readonly content: C;
}

/** Baetyl's v2 blink; absent optional fields are omitted (Go `omitempty`). */
export interface Blink {
  readonly reqId: string;
  readonly method: string;
  readonly version: string;
  readonly timestamp: number;
  readonly properties?: Record<string, AttributeValue>;
  readonly params?: Record<string, AttributeValue>;
}

/**
 * Position of a message in its device's stream. `epoch` changes (grows) at every start of the
 * gateway process; `seq` starts at 1 in each epoch and grows by one per message of the device.
 * The cloud orders by (epoch, seq): anything not above the last one seen is a duplicate.
 */
export interface StreamPos {
  readonly epoch: number;
  readonly seq: number;
}

/** Content of a `deviceReport` on `…/report`. */
export interface ReportContent extends StreamPos {
  /** `properties` = the changed attributes (all of them when `full`). */
  readonly blink: Blink;
  /** Shadow `reportVersion` after this report. */
  readonly reportVersion: number;
  /** Shadow `desireVersion` now: a desired document must name it to be accepted. */
  readonly desireVersion: number;
  /** True: `properties` is the whole reported state and replaces the cloud's copy. */
  readonly full: boolean;
  /** Per attribute in `properties`: sample timestamp and quality. */
  readonly metadata: Record<string, { readonly ts: number; readonly quality: Quality }>;
  /** Only when `full`: the desired document held at the edge. */
  readonly desired?: Record<string, AttributeValue>;
  /** Only when `full` and known: whether the device is online. */
  readonly online?: boolean;
  /** Only when answering a `get`: its `reqId`. */
  readonly reqId?: string;
}

/** Content of a `thing.lifecycle.post` on `…/lifecycle` or `fieldgate/{node}/status`. */
export interface LifecycleContent {
  readonly blink: Blink;
  /** Absent on the node status (it is not part of a device stream). */
  readonly epoch?: number;
  readonly seq?: number;
}

/**
 * Outcome of a desired document, or (`acknowledged`) the news that the reported state now matches
 * desired keys, which the edge therefore removed from its desired document.
 */
export type AckStatus = 'accepted' | 'partial' | 'rejected' | 'stale' | 'conflict' | 'acknowledged';

/** A property the edge refused, and why. */
export interface Rejection {
  readonly property: string;
  readonly reason: string;
}

/** Content of a `response` on `…/desired/ack`. */
export interface AckContent extends StreamPos {
  readonly status: AckStatus;
  /** The desired document's `clientToken`, echoed (AWS), when it had one. */
  readonly clientToken?: string;
  /** The desired document's `version`, when it had one. */
  readonly version?: number;
  /** Edge `desireVersion` after handling: the version the next desired document must name. */
  readonly desireVersion: number;
  readonly accepted: readonly string[];
  readonly rejected: readonly Rejection[];
  /** `acknowledged` only: the values reported that matched (and cleared) desired keys. */
  readonly acknowledged?: Record<string, AttributeValue>;
  readonly timestamp: number;
}

/** A desired document from the cloud (`deviceDesire`) or a Baetyl `deviceDelta` (no version). */
export interface DesiredDoc {
  readonly device: string;
  readonly desired: Record<string, AttributeValue>;
  /** The edge `desireVersion` the cloud based the document on (AWS optimistic locking). */
  readonly version?: number;
  readonly clientToken?: string;
  readonly timestamp?: number;
}

/** What a parser found. */
export type Parsed<T> = { readonly kind: 'ok'; readonly value: T } | { readonly kind: 'error'; readonly error: string };

/** Why `name` cannot be one topic level (empty, or contains `/`, `+`, `#`, NUL), or undefined. */
export function nameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (/[/+#\u0000]/.test(name)) return 'contains one of / + # NUL, which cannot be in one MQTT topic level';
  return undefined;
}

/** `fieldgate/{node}/shadow/{device}/{channel}`. */
export function deviceTopic(node: string, device: string, channel: Channel): string {
  return `${TOPIC_ROOT}/${node}/shadow/${device}/${channel}`;
}

/** `fieldgate/{node}/status`: the node's own online state (retained, and the Last Will). */
export function statusTopic(node: string): string {
  return `${TOPIC_ROOT}/${node}/status`;
}

/** Filters the edge subscribes: desired documents and shadow requests of every device of `node`. */
export function edgeSubscriptions(node: string): string[] {
  return [`${TOPIC_ROOT}/${node}/shadow/+/desired`, `${TOPIC_ROOT}/${node}/shadow/+/get`];
}

/** What a topic names. `device` and `channel` are absent for the node status topic. */
export type TopicInfo =
  | { readonly node: string; readonly device: string; readonly channel: Channel }
  | { readonly node: string; readonly status: true };

/** Splits a fieldgate cloud topic; undefined for anything else. */
export function parseTopic(topic: string): TopicInfo | undefined {
  const parts = topic.split('/');
  if (parts[0] !== TOPIC_ROOT) return undefined;
  const node = parts[1];
  if (node === undefined || node === '') return undefined;
  if (parts.length === 3 && parts[2] === 'status') return { node, status: true };
  if (parts.length < 5 || parts[2] !== 'shadow') return undefined;
  const device = parts[3] as string;
  const channel = parts.slice(4).join('/') as Channel;
  if (device === '' || !CHANNELS.includes(channel)) return undefined;
  return { node, device, channel };
}

/** The device of a device topic (`fieldgate/{node}/shadow/{device}/…`), else undefined. */
export function deviceOfTopic(topic: string): string | undefined {
  const t = parseTopic(topic);
  return t !== undefined && 'device' in t ? t.device : undefined;
}

/** A meta with `''` for what is not known. */
export function makeMeta(node: string, device: string, extra: { deviceProduct?: string; accessTemplate?: string } = {}): Meta {
  return {
    device,
    deviceProduct: extra.deviceProduct ?? '',
    accessTemplate: extra.accessTemplate ?? '',
    node,
    nodeProduct: NODE_PRODUCT,
  };
}

function blink(method: string, ts: number, body: Partial<Blink>): Blink {
  return { reqId: randomUUID(), method, version: BLINK_VERSION, timestamp: ts, ...body };
}

/** Fields of a report besides meta and position. */
export interface ReportFields {
  readonly ts: number;
  readonly properties: Record<string, AttributeValue>;
  readonly metadata: Record<string, { readonly ts: number; readonly quality: Quality }>;
  readonly reportVersion: number;
  readonly desireVersion: number;
  readonly full?: boolean;
  readonly desired?: Record<string, AttributeValue>;
  readonly online?: boolean;
  readonly reqId?: string;
}

/** `deviceReport` (blink `thing.property.post`) for `…/report`. */
export function reportMessage(meta: Meta, pos: StreamPos, f: ReportFields): Envelope<ReportContent> {
  const content: ReportContent = {
    blink: blink('thing.property.post', f.ts, { properties: f.properties }),
    epoch: pos.epoch,
    seq: pos.seq,
    reportVersion: f.reportVersion,
    desireVersion: f.desireVersion,
    full: f.full ?? false,
    metadata: f.metadata,
    ...(f.desired !== undefined ? { desired: f.desired } : {}),
    ...(f.online !== undefined ? { online: f.online } : {}),
    ...(f.reqId !== undefined ? { reqId: f.reqId } : {}),
  };
  return { kind: 'deviceReport', meta, content };
}

/** `thing.lifecycle.post` (blink `params.online_state`) for `…/lifecycle`, or for the node status without `pos`. */
export function lifecycleMessage(meta: Meta, online: boolean, ts: number, pos?: StreamPos): Envelope<LifecycleContent> {
  const b = blink('thing.lifecycle.post', ts, { params: { online_state: online } });
  return { kind: 'thing.lifecycle.post', meta, content: pos === undefined ? { blink: b } : { blink: b, epoch: pos.epoch, seq: pos.seq } };
}

/** Fields of an answer besides meta and position. */
export type AckFields = Omit<AckContent, 'epoch' | 'seq'>;

/** `response` for `…/desired/ack`. */
export function ackMessage(meta: Meta, pos: StreamPos, f: AckFields): Envelope<AckContent> {
  const content: AckContent = {
    epoch: pos.epoch,
    seq: pos.seq,
    status: f.status,
    ...(f.clientToken !== undefined ? { clientToken: f.clientToken } : {}),
    ...(f.version !== undefined ? { version: f.version } : {}),
    desireVersion: f.desireVersion,
    accepted: f.accepted,
    rejected: f.rejected,
    ...(f.acknowledged !== undefined ? { acknowledged: f.acknowledged } : {}),
    timestamp: f.timestamp,
  };
  return { kind: 'response', meta, content };
}

/** Cloud side: `deviceDesire` for `…/desired`. */
export function desiredMessage(
  meta: Meta,
  desired: Record<string, AttributeValue>,
  opts: { version?: number; clientToken?: string; ts: number },
): Envelope<Record<string, unknown>> {
  const content: Record<string, unknown> = { desired, timestamp: opts.ts };
  if (opts.version !== undefined) content['version'] = opts.version;
  if (opts.clientToken !== undefined) content['clientToken'] = opts.clientToken;
  return { kind: 'deviceDesire', meta, content };
}

/** Cloud side: `deviceDesire` for `…/get`: asks for a full report, answered with `reqId` echoed. */
export function getMessage(meta: Meta, reqId: string): Envelope<{ reqId: string }> {
  return { kind: 'deviceDesire', meta, content: { reqId } };
}

/** Payload text: compact JSON with bigints as exact number literals. */
export function serialize(message: object): string {
  try {
    // The native writer is several times faster; it throws on a bigint, which the exact writer handles.
    return JSON.stringify(message);
  } catch {
    return stringifyJson(message);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isVersion = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Integers of 16+ digits may exceed 2^53: only then is the slower exact reader needed. */
const LONG_INTEGER = /\d{16}/;

function parseJson(text: string): { kind: 'ok'; value: unknown } | { kind: 'error'; error: string } {
  if (LONG_INTEGER.test(text)) return parseJsonExact(text);
  try {
    return { kind: 'ok', value: JSON.parse(text) as unknown };
  } catch (e) {
    return { kind: 'error', error: e instanceof Error ? e.message : String(e) };
  }
}

function envelope(payload: Buffer | string): Parsed<{ kind: string; meta: Obj; content: Obj }> {
  const parsed = parseJson(typeof payload === 'string' ? payload : payload.toString('utf8'));
  if (parsed.kind === 'error') return { kind: 'error', error: `payload is not JSON: ${parsed.error}` };
  const m = parsed.value;
  if (!isObj(m)) return { kind: 'error', error: 'payload is not an envelope object' };
  if (typeof m['kind'] !== 'string') return { kind: 'error', error: 'envelope has no string "kind"' };
  const meta = m['meta'] ?? {};
  if (!isObj(meta)) return { kind: 'error', error: '"meta" is not an object' };
  if (!isObj(m['content'])) return { kind: 'error', error: '"content" is not an object' };
  return { kind: 'ok', value: { kind: m['kind'], meta, content: m['content'] } };
}

/**
 * Edge side: reads a message on `…/desired`. Accepts `deviceDesire` with `content.desired` (and
 * optional `version`, `clientToken`, `timestamp`) and Baetyl's `deviceDelta` with
 * `content.blink.properties` (no version; `null` entries mean "no change" there and are removed).
 * The device is the topic's; a `meta.device` that disagrees is an error.
 */
export function parseDesired(topicDevice: string, payload: Buffer | string): Parsed<DesiredDoc> {
  const env = envelope(payload);
  if (env.kind === 'error') return env;
  const { kind, meta, content } = env.value;
  const metaDevice = meta['device'];
  if (metaDevice !== undefined && metaDevice !== '' && metaDevice !== topicDevice) {
    return { kind: 'error', error: `meta.device ${JSON.stringify(metaDevice)} is not the topic's device ${JSON.stringify(topicDevice)}` };
  }
  if (kind === 'deviceDelta') {
    const b = content['blink'];
    const props = isObj(b) ? b['properties'] : undefined;
    if (!isObj(props)) return { kind: 'error', error: 'deviceDelta without content.blink.properties object' };
    const desired: Record<string, AttributeValue> = {};
    for (const [k, v] of Object.entries(props)) if (v !== null) desired[k] = v as AttributeValue;
    return { kind: 'ok', value: { device: topicDevice, desired } };
  }
  if (kind !== 'deviceDesire') return { kind: 'error', error: `kind ${JSON.stringify(kind)} is not deviceDesire or deviceDelta` };
  const desired = content['desired'];
  if (!isObj(desired)) return { kind: 'error', error: 'content.desired is not an object' };
  const version = content['version'];
  if (version !== undefined && !isVersion(version)) return { kind: 'error', error: 'content.version is not a non-negative integer' };
  const token = content['clientToken'];
  if (token !== undefined && typeof token !== 'string') return { kind: 'error', error: 'content.clientToken is not a string' };
  const ts = content['timestamp'];
  const doc: DesiredDoc = {
    device: topicDevice,
    desired: desired as Record<string, AttributeValue>,
    ...(version !== undefined ? { version } : {}),
    ...(token !== undefined ? { clientToken: token } : {}),
    ...(typeof ts === 'number' ? { timestamp: ts } : {}),
  };
  return { kind: 'ok', value: doc };
}

/** Edge side: reads a shadow request on `…/get`; its `reqId` (a fresh one if absent). */
export function parseGet(payload: Buffer | string): Parsed<{ reqId: string }> {
  const env = envelope(payload);
  if (env.kind === 'error') return env;
  const r = env.value.content['reqId'];
  return { kind: 'ok', value: { reqId: typeof r === 'string' && r !== '' ? r : randomUUID() } };
}

/** An uplink message as the cloud reads it. */
export type Uplink =
  | { readonly type: 'report'; readonly node: string; readonly device: string; readonly meta: Meta; readonly content: ReportContent }
  | { readonly type: 'lifecycle'; readonly node: string; readonly device: string; readonly online: boolean; readonly pos: StreamPos; readonly ts: number }
  | { readonly type: 'ack'; readonly node: string; readonly device: string; readonly content: AckContent }
  | { readonly type: 'status'; readonly node: string; readonly online: boolean; readonly ts: number };

function streamPos(c: Obj): StreamPos | undefined {
  const epoch = c['epoch'];
  const seq = c['seq'];
  return isVersion(epoch) && isVersion(seq) ? { epoch, seq } : undefined;
}

function onlineState(c: Obj): boolean | undefined {
  const b = c['blink'];
  const p = isObj(b) ? b['params'] : undefined;
  const o = isObj(p) ? p['online_state'] : undefined;
  return typeof o === 'boolean' ? o : undefined;
}

function blinkTs(c: Obj): number {
  const b = c['blink'];
  const ts = isObj(b) ? b['timestamp'] : undefined;
  return typeof ts === 'number' ? ts : 0;
}

/** Cloud side: reads an uplink message; errors name what is wrong. Downlink topics are errors too. */
export function parseUplink(topic: string, payload: Buffer | string): Parsed<Uplink> {
  const t = parseTopic(topic);
  if (t === undefined) return { kind: 'error', error: `not a fieldgate topic: ${topic}` };
  const env = envelope(payload);
  if (env.kind === 'error') return env;
  const { kind, meta, content } = env.value;
  if ('status' in t) {
    const online = onlineState(content);
    if (kind !== 'thing.lifecycle.post' || online === undefined) return { kind: 'error', error: 'status is not a thing.lifecycle.post with params.online_state' };
    return { kind: 'ok', value: { type: 'status', node: t.node, online, ts: blinkTs(content) } };
  }
  const pos = streamPos(content);
  const base = { node: t.node, device: t.device };
  if (t.channel === 'report') {
    const b = content['blink'];
    const props = isObj(b) ? b['properties'] : undefined;
    if (kind !== 'deviceReport' || !isObj(props)) return { kind: 'error', error: 'report is not a deviceReport with blink.properties' };
    if (pos === undefined || !isVersion(content['reportVersion']) || !isVersion(content['desireVersion'])) {
      return { kind: 'error', error: 'report lacks epoch/seq/reportVersion/desireVersion' };
    }
    return { kind: 'ok', value: { type: 'report', ...base, meta: meta as unknown as Meta, content: content as unknown as ReportContent } };
  }
  if (t.channel === 'lifecycle') {
    const online = onlineState(content);
    if (kind !== 'thing.lifecycle.post' || online === undefined || pos === undefined) {
      return { kind: 'error', error: 'lifecycle is not a thing.lifecycle.post with params.online_state, epoch and seq' };
    }
    return { kind: 'ok', value: { type: 'lifecycle', ...base, online, pos, ts: blinkTs(content) } };
  }
  if (t.channel === 'desired/ack') {
    if (kind !== 'response' || pos === undefined || typeof content['status'] !== 'string' || !isVersion(content['desireVersion'])) {
      return { kind: 'error', error: 'desired/ack is not a response with status, desireVersion, epoch and seq' };
    }
    return { kind: 'ok', value: { type: 'ack', ...base, content: content as unknown as AckContent } };
  }
  return { kind: 'error', error: `${t.channel} is a downlink topic` };
}
