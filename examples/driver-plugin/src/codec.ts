/**
 * KV/1, a line protocol spoken by simple instruments (and by ./simulator): pure encoding and
 * decoding, no sockets. Lines are UTF-8, end with "\n" ("\r\n" accepted), at most 1024 bytes.
 *
 *   client → instrument             instrument → client
 *   GET <key>                       OK <key>=<value>   |  ERR <key> <reason>
 *   SET <key>=<value>               OK <key>=<value>   |  ERR <key> <reason>
 *   SUB <key>                       OK <key>=<value>   (then EVT lines on change)
 *   UNSUB <key>                     OK <key>=<value>
 *                                   EVT <key>=<value>  (unsolicited, any time)
 *
 * Answers (OK/ERR) come in request order; EVT lines may come between them. Reasons: `unknown`
 * (no such key), `read-only`, `bad-value`, `bad-request`.
 */
import type { DecodeResult, PointType, PointValue } from 'fieldgate/sdk';

/** Longest line either side may send, bytes including "\n". */
export const MAX_LINE = 1024;
/** What a key may look like. */
export const KEY = /^[A-Za-z0-9_.-]{1,64}$/;

export type Request =
  | { readonly op: 'GET' | 'SUB' | 'UNSUB'; readonly key: string }
  | { readonly op: 'SET'; readonly key: string; readonly value: string };

export type Reply =
  | { readonly type: 'OK' | 'EVT'; readonly key: string; readonly value: string }
  | { readonly type: 'ERR'; readonly key: string; readonly reason: string };

/**
 * A decoder's answer (the SDK's DecodeResult): a value and the bytes it used, "need more bytes",
 * or what is wrong. KV/1 errors always say how many bytes to skip (the bad line), so one bad
 * line never costs the connection.
 */
export type Decoded<T> = DecodeResult<T>;

/** One request as the bytes to send. */
export function encodeRequest(r: Request): Buffer {
  if (!KEY.test(r.key)) throw new RangeError(`bad key ${JSON.stringify(r.key)}`);
  const line = r.op === 'SET' ? `SET ${r.key}=${r.value}\n` : `${r.op} ${r.key}\n`;
  if (/[\r\n]/.test(line.slice(0, -1))) throw new RangeError('a value must not contain a line break');
  return Buffer.from(line, 'utf8');
}

/** One reply as the bytes to send (the simulator's side). */
export function encodeReply(r: Reply): Buffer {
  return Buffer.from(r.type === 'ERR' ? `ERR ${r.key} ${r.reason}\n` : `${r.type} ${r.key}=${r.value}\n`, 'utf8');
}

/** Splits the first line off `buf`; `error` lines are consumed so the stream can go on. */
function firstLine(buf: Uint8Array): Decoded<string> {
  const nl = buf.indexOf(0x0a);
  if (nl < 0) return buf.length >= MAX_LINE ? { kind: 'error', error: `line longer than ${MAX_LINE} bytes`, consumed: buf.length } : { kind: 'incomplete' };
  if (nl + 1 > MAX_LINE) return { kind: 'error', error: `line longer than ${MAX_LINE} bytes`, consumed: nl + 1 };
  const end = nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl;
  return { kind: 'ok', value: Buffer.from(buf.buffer, buf.byteOffset, end).toString('utf8'), consumed: nl + 1 };
}

/** Decodes one reply line (client side). */
export function decodeReply(buf: Uint8Array): Decoded<Reply> {
  const l = firstLine(buf);
  if (l.kind !== 'ok') return l;
  const m = /^(OK|EVT) ([A-Za-z0-9_.-]{1,64})=(.*)$/.exec(l.value);
  if (m) return { kind: 'ok', value: { type: m[1] as 'OK' | 'EVT', key: m[2]!, value: m[3]! }, consumed: l.consumed };
  const e = /^ERR ([A-Za-z0-9_.-]{1,64}) (\S.*)$/.exec(l.value);
  if (e) return { kind: 'ok', value: { type: 'ERR', key: e[1]!, reason: e[2]! }, consumed: l.consumed };
  return { kind: 'error', error: `not a KV/1 reply: ${JSON.stringify(l.value.slice(0, 80))}`, consumed: l.consumed };
}

/** Decodes one request line (instrument side). */
export function decodeRequest(buf: Uint8Array): Decoded<Request> {
  const l = firstLine(buf);
  if (l.kind !== 'ok') return l;
  const s = /^SET ([A-Za-z0-9_.-]{1,64})=(.*)$/.exec(l.value);
  if (s) return { kind: 'ok', value: { op: 'SET', key: s[1]!, value: s[2]! }, consumed: l.consumed };
  const g = /^(GET|SUB|UNSUB) ([A-Za-z0-9_.-]{1,64})$/.exec(l.value);
  if (g) return { kind: 'ok', value: { op: g[1] as 'GET' | 'SUB' | 'UNSUB', key: g[2]! }, consumed: l.consumed };
  return { kind: 'error', error: `not a KV/1 request: ${JSON.stringify(l.value.slice(0, 80))}`, consumed: l.consumed };
}

const INT_RANGE: Partial<Record<PointType, [bigint, bigint]>> = {
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/** The text of a value as the instrument sent it, typed as the point's type. */
export function parseValue(text: string, type: PointType): { ok: true; value: PointValue } | { ok: false; error: string } {
  const t = text.trim();
  if (type === 'string') return { ok: true, value: text };
  if (type === 'bool') {
    if (/^(1|true|on)$/i.test(t)) return { ok: true, value: true };
    if (/^(0|false|off)$/i.test(t)) return { ok: true, value: false };
    return { ok: false, error: `${JSON.stringify(t)} is not a bool (1/0, true/false, on/off)` };
  }
  if (type === 'float32' || type === 'float64') {
    const n = Number(t);
    return t !== '' && Number.isFinite(n) ? { ok: true, value: n } : { ok: false, error: `${JSON.stringify(t)} is not a number` };
  }
  const range = INT_RANGE[type];
  if (range === undefined) return { ok: false, error: `type ${type} is not supported by KV/1` };
  if (!/^[+-]?\d+$/.test(t)) return { ok: false, error: `${JSON.stringify(t)} is not an integer` };
  const b = BigInt(t);
  if (b < range[0] || b > range[1]) return { ok: false, error: `${t} is out of range for ${type}` };
  return { ok: true, value: type === 'int64' || type === 'uint64' ? b : Number(b) };
}

/** A value as KV/1 text. */
export function formatValue(v: PointValue): string {
  return typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
}
