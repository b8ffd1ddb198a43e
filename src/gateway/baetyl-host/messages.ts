/**
 * The JSON messages carried in `RequestArgs.request` between a Baetyl host and its drivers
 * (baetyl-go `spec/v1.Message` = `{kind, meta, content}`; baetyl-gateway `gateway/driver.go`,
 * baetyl-gateway-sdk `sdk/README.md`). Pure: text in, typed values out.
 * - driver → host `Post`: `deviceReport` (periodic) or `deviceDesire` (answer to a Get), content
 *   keyed by access-template point name; `State`: `thing.lifecycle.post`, content true/false.
 *   Both must carry `meta.driverName` and `meta.deviceName`.
 * - host → driver `Set`: `deviceDelta`, content `[{propName, propVal}]` (point names, raw values);
 *   `Get`: `thing.property.get` with a list of names, or `deviceEvent` with `{type, payload}`.
 */
import { stringifyJson } from '../../devicemodel/json.ts';
import type { PointType, PointValue } from '../../devicemodel/types.ts';
import { DriverError } from '../../drivers/sdk/index.ts';
import { parseJsonExact } from '../mqtt/jsonparse.ts';

/** Message kinds (baetyl-gateway-sdk README constants). */
export const KIND = {
  report: 'deviceReport',
  desire: 'deviceDesire',
  delta: 'deviceDelta',
  event: 'deviceEvent',
  propertyGet: 'thing.property.get',
  lifecycle: 'thing.lifecycle.post',
} as const;

/** A Post from the driver: values of one device keyed by point name. */
export interface DeviceValues {
  readonly kind: typeof KIND.report | typeof KIND.desire;
  readonly driverName: string;
  readonly deviceName: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/** A State from the driver. */
export interface DeviceState {
  readonly driverName: string;
  readonly deviceName: string;
  readonly online: boolean;
}

export type Parsed<T> = { readonly kind: 'ok'; readonly value: T } | { readonly kind: 'error'; readonly error: DriverError };

const bad = (message: string): Parsed<never> => ({ kind: 'error', error: new DriverError('Protocol', message) });

/** Parses `{kind, meta: {driverName, deviceName}, content}`; `content` left as parsed JSON. */
function parseEnvelope(text: string): Parsed<{ kind: string; driverName: string; deviceName: string; content: unknown }> {
  // Exact parse: a uint64 counter keeps every digit (JSON.parse would round it).
  const j = parseJsonExact(text);
  if (j.kind === 'error') return bad(`not JSON: ${j.error}`);
  const data = j.value;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return bad('expected a JSON object {kind, meta, content}');
  const m = data as Record<string, unknown>;
  if (typeof m.kind !== 'string') return bad('no "kind"');
  const meta = m.meta;
  if (meta === null || typeof meta !== 'object') return bad(`${m.kind}: no "meta" object (it must hold driverName and deviceName)`);
  const { driverName, deviceName } = meta as Record<string, unknown>;
  if (typeof driverName !== 'string' || typeof deviceName !== 'string') return bad(`${m.kind}: meta must hold driverName and deviceName strings`);
  return { kind: 'ok', value: { kind: m.kind, driverName, deviceName, content: m.content } };
}

/** Parses the `request` of a Report.Post. */
export function parsePost(text: string): Parsed<DeviceValues> {
  const e = parseEnvelope(text);
  if (e.kind === 'error') return e;
  const { kind, driverName, deviceName, content } = e.value;
  if (kind !== KIND.report && kind !== KIND.desire) return bad(`Post of kind ${JSON.stringify(kind)}; expected ${KIND.report} or ${KIND.desire}`);
  if (content === null || typeof content !== 'object' || Array.isArray(content)) return bad(`${kind} for ${deviceName}: content must be an object keyed by point name`);
  return { kind: 'ok', value: { kind, driverName, deviceName, values: content as Record<string, unknown> } };
}

/** Parses the `request` of a Report.State. */
export function parseState(text: string): Parsed<DeviceState> {
  const e = parseEnvelope(text);
  if (e.kind === 'error') return e;
  const { kind, driverName, deviceName, content } = e.value;
  if (kind !== KIND.lifecycle) return bad(`State of kind ${JSON.stringify(kind)}; expected ${KIND.lifecycle}`);
  if (typeof content !== 'boolean') return bad(`${kind} for ${deviceName}: content must be true or false`);
  return { kind: 'ok', value: { driverName, deviceName, online: content } };
}

/** One value to set, by point name (baetyl-gateway `config.DeviceProperty`). */
export interface PropWrite {
  readonly propName: string;
  readonly propVal: PointValue;
}

/** The `request` of a Driver.Set. A bigint is written as an exact JSON number. */
export function encodeSet(driverName: string, deviceName: string, props: readonly PropWrite[]): string {
  return stringifyJson({ kind: KIND.delta, meta: { driverName, deviceName }, content: props.map((p) => ({ propName: p.propName, propVal: p.propVal })) });
}

/** The `request` of a Driver.Get asking for the named points (all when empty). */
export function encodePropertyGet(driverName: string, deviceName: string, names: readonly string[]): string {
  return JSON.stringify({ kind: KIND.propertyGet, meta: { driverName, deviceName }, content: names });
}

/** The `request` of a Driver.Get carrying a device event (Baetyl's `{type: "report"}` = read now). */
export function encodeEvent(driverName: string, deviceName: string, event: { type: string; payload?: unknown }): string {
  return JSON.stringify({ kind: KIND.event, meta: { driverName, deviceName }, content: event });
}

const INT_RANGE: Partial<Record<PointType, [bigint, bigint]>> = {
  int16: [-32768n, 32767n],
  uint16: [0n, 65535n],
  int32: [-2147483648n, 2147483647n],
  uint32: [0n, 4294967295n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/**
 * A reported JSON value as the point's type (the driver decoded it already; this only checks
 * and adapts the JavaScript representation: 64-bit integers become bigint, numeric strings
 * numbers). Returns an error message when the value does not fit the type.
 */
export function toPointValue(type: PointType, v: unknown): { ok: true; value: PointValue } | { ok: false; error: string } {
  const shown = () => JSON.stringify(v) ?? String(v);
  switch (type) {
    case 'bool':
      if (typeof v === 'boolean') return { ok: true, value: v };
      if (v === 0 || v === 1) return { ok: true, value: v === 1 };
      return { ok: false, error: `${shown()} is not a bool` };
    case 'string':
      if (typeof v === 'string') return { ok: true, value: v };
      if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return { ok: true, value: String(v) };
      return { ok: false, error: `${shown()} is not a string` };
    case 'float32':
    case 'float64': {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof n === 'bigint') return { ok: true, value: Number(n) };
      if (typeof n === 'number' && Number.isFinite(n)) return { ok: true, value: n };
      return { ok: false, error: `${shown()} is not a finite number` };
    }
    default: {
      const n =
        typeof v === 'bigint' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? BigInt(v.trim()) : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : undefined;
      const range = INT_RANGE[type];
      if (n === undefined || range === undefined) return { ok: false, error: `${shown()} is not an integer` };
      if (n < range[0] || n > range[1]) return { ok: false, error: `${shown()} is out of range for ${type}` };
      return { ok: true, value: type === 'int64' || type === 'uint64' ? n : Number(n) };
    }
  }
}
