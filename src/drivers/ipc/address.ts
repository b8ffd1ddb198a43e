/**
 * IP camera point addresses (`visitor.ipc`): a short path naming one fact about a camera.
 *
 * Grammar (whitespace not allowed):
 * ```
 * online
 * info.(manufacturer|model|firmware|serial|hardwareId)
 * profiles.count
 * profile[<index>|<token>|<name>].(token|name|encoding|width|height|fps|bitrate|streamUri|snapshotUri)
 * stream[<profile>]?.(codec|width|height|fps|lastFrameTs|ok|uri)
 * snapshot.(path|size|ts|count|take)
 * ptz.(pan|tilt|zoom|moving|move|stop|preset|home)
 * forward.(state|restarts|enabled|target|pid)
 * event.(motion|tamper)
 * ```
 * `visitor.ipc` is that path as a string, or `{address: <path>, type?}`. Writable: `snapshot.take`,
 * `ptz.move|stop|preset|home`, `forward.enabled`; every other address is read-only.
 */
import { z } from '../sdk/index.ts';
import type { Point } from '../sdk/index.ts';
import type { PointType } from '../../devicemodel/types.ts';
import { POINT_TYPES } from '../../devicemodel/types.ts';

/** Which profile a `profile[...]`/`stream[...]` address names: by position or by token/name. */
export type ProfileSelector = { readonly index: number } | { readonly key: string };

export const INFO_FIELDS = ['manufacturer', 'model', 'firmware', 'serial', 'hardwareId'] as const;
export const PROFILE_FIELDS = ['token', 'name', 'encoding', 'width', 'height', 'fps', 'bitrate', 'streamUri', 'snapshotUri'] as const;
export const STREAM_FIELDS = ['codec', 'width', 'height', 'fps', 'lastFrameTs', 'ok', 'uri'] as const;
export const SNAPSHOT_FIELDS = ['path', 'size', 'ts', 'count', 'take'] as const;
export const PTZ_FIELDS = ['pan', 'tilt', 'zoom', 'moving', 'move', 'stop', 'preset', 'home'] as const;
export const FORWARD_FIELDS = ['state', 'restarts', 'enabled', 'target', 'pid'] as const;
export const EVENT_FIELDS = ['motion', 'tamper'] as const;

/** A parsed camera address. */
export type IpcTarget =
  | { readonly kind: 'online' }
  | { readonly kind: 'info'; readonly field: (typeof INFO_FIELDS)[number] }
  | { readonly kind: 'profiles'; readonly field: 'count' }
  | { readonly kind: 'profile'; readonly profile: ProfileSelector; readonly field: (typeof PROFILE_FIELDS)[number] }
  | { readonly kind: 'stream'; readonly profile?: ProfileSelector; readonly field: (typeof STREAM_FIELDS)[number] }
  | { readonly kind: 'snapshot'; readonly field: (typeof SNAPSHOT_FIELDS)[number] }
  | { readonly kind: 'ptz'; readonly field: (typeof PTZ_FIELDS)[number] }
  | { readonly kind: 'forward'; readonly field: (typeof FORWARD_FIELDS)[number] }
  | { readonly kind: 'event'; readonly field: (typeof EVENT_FIELDS)[number] };

/** The parsed `visitor.ipc`: the target plus the text it came from (for messages). */
export type IpcAddress = IpcTarget & { readonly text: string; readonly type?: PointType };

const GROUPS: Readonly<Record<string, readonly string[]>> = {
  info: INFO_FIELDS,
  profiles: ['count'],
  profile: PROFILE_FIELDS,
  stream: STREAM_FIELDS,
  snapshot: SNAPSHOT_FIELDS,
  ptz: PTZ_FIELDS,
  forward: FORWARD_FIELDS,
  event: EVENT_FIELDS,
};

const PATH = /^([a-z]+)(?:\[([^\]\s]{1,64})\])?(?:\.([A-Za-z]+))?$/;

/** Parses an address path; `{ok:false}` with a message naming what is allowed. */
export function parseAddress(text: string): { ok: true; target: IpcTarget } | { ok: false; error: string } {
  const t = text.trim();
  if (t === 'online') return { ok: true, target: { kind: 'online' } };
  const m = PATH.exec(t);
  const group = m?.[1];
  const fields = group === undefined ? undefined : GROUPS[group];
  if (m === null || fields === undefined) {
    return { ok: false, error: `"${text}" is not a camera address; write e.g. online, info.manufacturer, profile[0].width, profile[main].streamUri, stream.fps, snapshot.path, ptz.move, forward.state` };
  }
  const sel = m[2];
  const field = m[3];
  if (field === undefined || !fields.includes(field)) {
    return { ok: false, error: `"${text}": ${group} has the fields ${fields.join(', ')}` };
  }
  if (sel !== undefined && group !== 'profile' && group !== 'stream') {
    return { ok: false, error: `"${text}": only profile[...] and stream[...] take a profile selector` };
  }
  if (group === 'profile' && sel === undefined) {
    return { ok: false, error: `"${text}": name the profile, e.g. profile[0].${field} or profile[main].${field}` };
  }
  const profile: ProfileSelector | undefined = sel === undefined ? undefined : /^\d+$/.test(sel) ? { index: Number(sel) } : { key: sel };
  switch (group) {
    case 'profile':
      return { ok: true, target: { kind: 'profile', profile: profile!, field: field as (typeof PROFILE_FIELDS)[number] } };
    case 'stream':
      return { ok: true, target: { kind: 'stream', ...(profile ? { profile } : {}), field: field as (typeof STREAM_FIELDS)[number] } };
    default:
      return { ok: true, target: { kind: group, field } as IpcTarget };
  }
}

/** `visitor.ipc` of one access-template property: the path, or `{address, type}`. */
export const ipcAddressSchema = z
  .union([z.string(), z.strictObject({ address: z.string(), type: z.enum(POINT_TYPES).optional() })])
  .transform((v, ctx): IpcAddress => {
    const text = typeof v === 'string' ? v : v.address;
    const r = parseAddress(text);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.error });
      return z.NEVER;
    }
    return { ...r.target, text: text.trim(), ...(typeof v === 'object' && v.type !== undefined ? { type: v.type } : {}) };
  });

/** The kind of value an address produces or takes. */
export type ValueKind = 'string' | 'number' | 'bool' | 'time' | 'preset';

/** What value an address carries (checked against the point's `type`). */
export function valueKind(t: IpcTarget): ValueKind {
  switch (t.kind) {
    case 'online':
    case 'event':
      return 'bool';
    case 'info':
      return 'string';
    case 'profiles':
      return 'number';
    case 'profile':
      return ['width', 'height', 'fps', 'bitrate'].includes(t.field) ? 'number' : 'string';
    case 'stream':
      return t.field === 'lastFrameTs' ? 'time' : t.field === 'ok' ? 'bool' : t.field === 'codec' || t.field === 'uri' ? 'string' : 'number';
    case 'snapshot':
      return t.field === 'path' ? 'string' : t.field === 'ts' ? 'time' : t.field === 'take' ? 'bool' : 'number';
    case 'ptz':
      return t.field === 'move' ? 'string' : t.field === 'preset' ? 'preset' : t.field === 'moving' || t.field === 'stop' || t.field === 'home' ? 'bool' : 'number';
    case 'forward':
      return t.field === 'state' || t.field === 'target' ? 'string' : t.field === 'enabled' ? 'bool' : 'number';
  }
}

/** True for the addresses a write may target (commands). */
export function isWritable(t: IpcTarget): boolean {
  return (
    (t.kind === 'snapshot' && t.field === 'take') ||
    (t.kind === 'ptz' && (t.field === 'move' || t.field === 'stop' || t.field === 'preset' || t.field === 'home')) ||
    (t.kind === 'forward' && t.field === 'enabled')
  );
}

/** True for the addresses that need the ONVIF service (unsupported with a bare RTSP URL). */
export function needsOnvif(t: IpcTarget): boolean {
  return t.kind === 'info' || t.kind === 'profiles' || t.kind === 'profile' || t.kind === 'ptz' || t.kind === 'event';
}

const NUMERIC: ReadonlySet<PointType> = new Set(['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64']);
const INTEGER: ReadonlySet<PointType> = new Set(['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);

/** Checks the point's type against what its address carries. */
export function checkIpcPoint(point: Point<IpcAddress>): { path: (string | number)[]; message: string }[] {
  const a = point.address;
  const kind = valueKind(a);
  const t = point.type;
  const ok =
    kind === 'string' ? t === 'string' :
    kind === 'number' ? NUMERIC.has(t) :
    kind === 'bool' ? t === 'bool' :
    kind === 'time' ? t === 'int64' || t === 'uint64' || t === 'float64' || t === 'string' :
    t === 'string' || INTEGER.has(t);
  const want =
    kind === 'string' ? 'string' :
    kind === 'number' ? 'a numeric type (int32, float32, …)' :
    kind === 'bool' ? 'bool' :
    kind === 'time' ? 'int64 (epoch ms), float64 or string (ISO 8601)' :
    'string or an integer type';
  const out: { path: (string | number)[]; message: string }[] = [];
  if (!ok) out.push({ path: ['type'], message: `address ${a.text} carries ${want}, not ${t}` });
  if (a.type !== undefined && a.type !== t) out.push({ path: ['visitor', 'ipc', 'type'], message: `visitor type ${a.type} differs from the property type ${t}` });
  return out;
}

/** Converts a raw fact into the point's type (epoch ms become ISO text for string points). */
export function toPointValue(raw: string | number | boolean, type: PointType, kind: ValueKind): string | number | bigint | boolean {
  if (type === 'string') {
    if (kind === 'time' && typeof raw === 'number') return new Date(raw).toISOString();
    return String(raw);
  }
  if (type === 'bool') return typeof raw === 'boolean' ? raw : raw === 'true' || (typeof raw === 'number' && raw !== 0);
  const n = typeof raw === 'number' ? raw : typeof raw === 'boolean' ? (raw ? 1 : 0) : Number(raw);
  if (type === 'int64' || type === 'uint64') return BigInt(Math.round(Number.isFinite(n) ? n : 0));
  if (INTEGER.has(type)) return Math.round(n);
  return n;
}
