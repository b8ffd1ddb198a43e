/**
 * Reading downlink messages (cloud / Baetyl core → fieldgate). Pure and total: every payload gives
 * a {@link Downlink}, nothing throws.
 *
 * Routing follows baetyl-gateway (`gateway/driver.go processDownlinkMsg`): by the envelope's `kind`
 * and `meta.device`, not by topic. When `meta.device` is missing, the device named by a Baetyl
 * topic template (`thing/{product}/{device}/…`, `$baetyl/device/{device}/…`) is used instead.
 */
import { parseJsonExact } from './jsonparse.ts';

/** One decoded downlink message. */
export type Downlink =
  /** `deviceDelta`: write these desired values. `null` ("no change") entries are already removed. */
  | { readonly kind: 'delta'; readonly device: string; readonly reqId?: string; readonly properties: Record<string, unknown> }
  /** `thing.property.get`: read these properties now and answer on `get`; `[]` = all properties. */
  | { readonly kind: 'propertyGet'; readonly device: string; readonly reqId?: string; readonly names: string[] }
  /** `deviceEvent` with `type: "report"`: read every property now and report (召测). */
  | { readonly kind: 'readNow'; readonly device: string; readonly reqId?: string }
  /** `response`: the shadow Baetyl core holds for the device (answer to a `deviceDesire` on `get`). */
  | {
      readonly kind: 'shadowResponse';
      readonly device: string;
      readonly report: Record<string, unknown>;
      readonly desire: Record<string, unknown>;
    }
  /** `deviceDesire` on `get`: a Baetyl driver or app asks for the device's shadow; answer on `getResponse`. */
  | { readonly kind: 'shadowRequest'; readonly device: string }
  /** A well-formed message that is not for us (an uplink kind, an unknown kind or event type). */
  | { readonly kind: 'ignored'; readonly device?: string; readonly reason: string }
  /** A malformed message; `reason` says what is wrong, `device` is set when it could be found. */
  | { readonly kind: 'invalid'; readonly device?: string; readonly reason: string };

/** Kinds that fieldgate itself (or a peer) publishes upward: seen when a subscription overlaps. */
const UPLINK_KINDS = new Set(['deviceReport', 'thing.event.post', 'thing.lifecycle.post', 'error']);

const THING_TOPIC = /^thing\/[^/]+\/([^/]+)\/[^/]+\/[^/]+$/;
const BAETYL_TOPIC = /^\$baetyl\/device\/([^/]+)\/[^/]+$/;

/** The device a Baetyl template topic names, if the topic matches one (baetyl `dm/observer.go`). */
export function deviceOfTopic(topic: string): string | undefined {
  return (THING_TOPIC.exec(topic) ?? BAETYL_TOPIC.exec(topic))?.[1];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Decodes one downlink message. */
export function parseDownlink(topic: string, payload: Buffer): Downlink {
  const parsed = parseJsonExact(payload.toString('utf8'));
  const topicDevice = deviceOfTopic(topic);
  const invalid = (reason: string, device = topicDevice): Downlink =>
    device === undefined ? { kind: 'invalid', reason } : { kind: 'invalid', device, reason };

  if (parsed.kind === 'error') return invalid(`payload is not JSON: ${parsed.error}`);
  const msg = parsed.value;
  if (!isObj(msg)) return invalid(`payload is ${describe(msg)}, not an envelope object`);
  const kind = msg['kind'];
  if (typeof kind !== 'string' || kind === '') return invalid('envelope has no string "kind"');
  const meta = msg['meta'];
  if (meta !== undefined && meta !== null && !isObj(meta)) return invalid(`"meta" is ${describe(meta)}, not an object`);
  const metaDevice = meta?.['device'];
  if (metaDevice !== undefined && (typeof metaDevice !== 'string' || metaDevice === '')) {
    return invalid(`"meta.device" is ${describe(metaDevice)}, not a non-empty string`);
  }
  const device = (metaDevice as string | undefined) ?? topicDevice;

  if (UPLINK_KINDS.has(kind)) return ignored(`kind "${kind}" is an uplink message`, device);
  // baetyl-core answers a `deviceDesire` on `get` with the shadow on `getResponse`; so do we.
  // Its content is free (Baetyl's dmcontext sends the DeviceInfo); only the device matters.
  if (kind === 'deviceDesire') {
    if (device === undefined) return invalid(`no "meta.device" and topic "${topic}" names no device`);
    return { kind: 'shadowRequest', device };
  }
  const content = msg['content'];
  switch (kind) {
    case 'deviceDelta':
    case 'thing.property.get':
    case 'deviceEvent':
    case 'response':
      break;
    default:
      return ignored(`kind "${kind}" is not handled`, device);
  }
  if (!isObj(content)) return invalid(`"content" is ${describe(content)}, not an object`, device);
  // A shadow response also names its device in `content.name`.
  const named = kind === 'response' && typeof content['name'] === 'string' && content['name'] !== '' ? content['name'] : undefined;
  const target = device ?? named;
  if (target === undefined) return invalid(`no "meta.device" and topic "${topic}" names no device`);

  switch (kind) {
    case 'deviceDelta':
      return delta(target, content);
    case 'thing.property.get':
      return propertyGet(target, content);
    case 'deviceEvent':
      return event(target, content);
    default:
      return shadowResponse(target, content);
  }
}

function ignored(reason: string, device: string | undefined): Downlink {
  return device === undefined ? { kind: 'ignored', reason } : { kind: 'ignored', device, reason };
}

/**
 * v2: `content.blink.properties` is the map (`thing.property.invoke`). Legacy v1 (BIE doc
 * 8l13d4b5b): `content` itself is the map. A v1 map with a property named `blink` whose value is
 * an object would read as v2; no Baetyl model uses that name.
 */
function delta(device: string, content: Obj): Downlink {
  let map: unknown = content;
  let reqId: string | undefined;
  const blink = content['blink'];
  if (isObj(blink)) {
    const r = readReqId(blink);
    if (r.error) return { kind: 'invalid', device, reason: r.error };
    reqId = r.reqId;
    map = blink['properties'];
    if (!isObj(map)) return { kind: 'invalid', device, reason: `"content.blink.properties" is ${describe(map)}, not an object` };
  }
  const properties: Obj = {};
  for (const [k, v] of Object.entries(map as Obj)) if (v !== null) properties[k] = v;
  return reqId === undefined ? { kind: 'delta', device, properties } : { kind: 'delta', device, reqId, properties };
}

/** `content.blink.properties` is a list of names (baetyl `dm.ParsePropertyKeys`); absent or `[]` = all. */
function propertyGet(device: string, content: Obj): Downlink {
  const blink = content['blink'];
  if (!isObj(blink)) return { kind: 'invalid', device, reason: `"content.blink" is ${describe(blink)}, not an object` };
  const r = readReqId(blink);
  if (r.error) return { kind: 'invalid', device, reason: r.error };
  const list = blink['properties'] ?? [];
  if (!Array.isArray(list)) return { kind: 'invalid', device, reason: `"content.blink.properties" is ${describe(list)}, not an array of names` };
  const bad = list.findIndex((n) => typeof n !== 'string' || n === '');
  if (bad >= 0) return { kind: 'invalid', device, reason: `"content.blink.properties[${bad}]" is ${describe(list[bad])}, not a property name` };
  const names = [...new Set(list as string[])];
  return r.reqId === undefined ? { kind: 'propertyGet', device, names } : { kind: 'propertyGet', device, reqId: r.reqId, names };
}

/** `deviceEvent`: `{type: "report", payload}` means read now (baetyl `TypeReportEvent`); other types are not ours. */
function event(device: string, content: Obj): Downlink {
  const type = content['type'];
  if (typeof type !== 'string') return { kind: 'invalid', device, reason: `"content.type" is ${describe(type)}, not a string` };
  if (type !== 'report') return { kind: 'ignored', device, reason: `deviceEvent type "${type}" is not handled` };
  const reqId = content['reqId'];
  return typeof reqId === 'string' && reqId !== '' ? { kind: 'readNow', device, reqId } : { kind: 'readNow', device };
}

/** `response`: `{name, report, desire}`; a missing or null report/desire is an empty map. */
function shadowResponse(device: string, content: Obj): Downlink {
  const maps: Obj[] = [];
  for (const key of ['report', 'desire'] as const) {
    const v = content[key] ?? {};
    if (!isObj(v)) return { kind: 'invalid', device, reason: `"content.${key}" is ${describe(v)}, not an object` };
    maps.push(v);
  }
  return { kind: 'shadowResponse', device, report: maps[0]!, desire: maps[1]! };
}

function readReqId(blink: Obj): { reqId?: string; error?: string } {
  const r = blink['reqId'];
  if (r === undefined || r === null || r === '') return {};
  if (typeof r !== 'string') return { error: `"content.blink.reqId" is ${describe(r)}, not a string` };
  return { reqId: r };
}

/** A short description of a JSON value for error reasons. */
function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `the ${typeof v === 'bigint' ? 'number' : typeof v} ${String(v)}`;
}
