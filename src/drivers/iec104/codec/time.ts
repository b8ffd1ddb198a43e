/**
 * CP56Time2a, the seven-octet binary time of IEC 60870-5-101 §7.2.6.18 (also IEC 60870-5-4 §6.8):
 *
 * | octet | bits |
 * |---|---|
 * | 1–2 | milliseconds 0..59999, little-endian (seconds × 1000 + ms) |
 * | 3 | bits 0–5 minutes 0..59, bit 6 RES1 (GEN/substituted in later editions), bit 7 IV (invalid) |
 * | 4 | bits 0–4 hours 0..23, bits 5–6 RES2, bit 7 SU (summer time) |
 * | 5 | bits 0–4 day of month 1..31, bits 5–7 day of week 1..7 (Monday = 1; 0 = not used) |
 * | 6 | bits 0–3 month 1..12, bits 4–7 RES3 |
 * | 7 | bits 0–6 year 0..99, bit 7 RES4 |
 *
 * The format carries no time zone. fieldgate reads the fields as a wall clock `offsetMinutes`
 * east of UTC (0 = UTC, the usual choice of 104 stations that cross time zones) and takes the
 * two-digit year as 2000..2099.
 */
import { codecError } from './types.ts';
import type { Decoded } from './types.ts';

/** Octets of a CP56Time2a. */
export const CP56_SIZE = 7;

/** The fields of a CP56Time2a as they are on the wire. */
export interface Cp56Time {
  /** Milliseconds in the minute, 0..59999. */
  readonly ms: number;
  readonly minute: number;
  readonly hour: number;
  /** Day of month 1..31. */
  readonly day: number;
  /** 1 = Monday .. 7 = Sunday; 0 when not used. */
  readonly dayOfWeek: number;
  /** 1..12. */
  readonly month: number;
  /** 0..99 (2000..2099). */
  readonly year: number;
  /** IV: the time is invalid (the sender's clock is not synchronized). */
  readonly invalid: boolean;
  /** SU: summer time. */
  readonly summerTime: boolean;
  /** RES1, used as GEN ("substituted time") by IEC 60870-5-101 ed. 2. */
  readonly substituted: boolean;
}

/** Writes a CP56Time2a into `out` at `offset`; returns the octets written (7). */
export function writeCp56(t: Cp56Time, out: Uint8Array, offset: number): number {
  out[offset] = t.ms & 0xff;
  out[offset + 1] = (t.ms >> 8) & 0xff;
  out[offset + 2] = (t.minute & 0x3f) | (t.substituted ? 0x40 : 0) | (t.invalid ? 0x80 : 0);
  out[offset + 3] = (t.hour & 0x1f) | (t.summerTime ? 0x80 : 0);
  out[offset + 4] = (t.day & 0x1f) | ((t.dayOfWeek & 0x07) << 5);
  out[offset + 5] = t.month & 0x0f;
  out[offset + 6] = t.year & 0x7f;
  return CP56_SIZE;
}

/** Encodes a CP56Time2a into seven new octets. */
export function encodeCp56(t: Cp56Time): Uint8Array {
  const out = new Uint8Array(CP56_SIZE);
  writeCp56(t, out, 0);
  return out;
}

/**
 * Decodes a CP56Time2a at `offset`. Reserved bits are ignored; field ranges are not checked here
 * (a station may send nonsense with IV set): {@link cp56ToEpoch} says whether it is a real time.
 */
export function decodeCp56(buf: Uint8Array, offset = 0): Decoded<Cp56Time> {
  if (buf.length - offset < CP56_SIZE) return buf.length === offset ? { kind: 'incomplete' } : codecError('Truncated', `CP56Time2a needs 7 octets, ${buf.length - offset} left`, offset);
  const b = (i: number) => buf[offset + i]!;
  return {
    kind: 'ok',
    consumed: CP56_SIZE,
    value: {
      ms: b(0) | (b(1) << 8),
      minute: b(2) & 0x3f,
      substituted: (b(2) & 0x40) !== 0,
      invalid: (b(2) & 0x80) !== 0,
      hour: b(3) & 0x1f,
      summerTime: (b(3) & 0x80) !== 0,
      day: b(4) & 0x1f,
      dayOfWeek: b(4) >> 5,
      month: b(5) & 0x0f,
      year: b(6) & 0x7f,
    },
  };
}

/** The CP56Time2a of an instant, as a wall clock `offsetMinutes` east of UTC. */
export function cp56FromEpoch(epochMs: number, offsetMinutes = 0, flags?: { invalid?: boolean; summerTime?: boolean }): Cp56Time {
  const d = new Date(epochMs + offsetMinutes * 60_000);
  const jsDay = d.getUTCDay(); // 0 = Sunday
  return {
    ms: d.getUTCSeconds() * 1000 + d.getUTCMilliseconds(),
    minute: d.getUTCMinutes(),
    hour: d.getUTCHours(),
    day: d.getUTCDate(),
    dayOfWeek: jsDay === 0 ? 7 : jsDay,
    month: d.getUTCMonth() + 1,
    year: d.getUTCFullYear() % 100,
    invalid: flags?.invalid ?? false,
    summerTime: flags?.summerTime ?? false,
    substituted: false,
  };
}

/**
 * The instant a CP56Time2a names (epoch ms), reading it as a wall clock `offsetMinutes` east of
 * UTC; `undefined` when a field is out of range (ms > 59999, minute > 59, hour > 23, day 0 or
 * past the month's end, month 0 or > 12). The IV bit is reported by the caller, not here.
 */
export function cp56ToEpoch(t: Cp56Time, offsetMinutes = 0): number | undefined {
  if (t.ms > 59_999 || t.minute > 59 || t.hour > 23 || t.day < 1 || t.month < 1 || t.month > 12) return undefined;
  const year = 2000 + t.year;
  const base = Date.UTC(year, t.month - 1, t.day, t.hour, t.minute, 0, 0);
  // Date.UTC rolls 31 February over into March: reject days past the month's end.
  if (new Date(base).getUTCMonth() !== t.month - 1) return undefined;
  return base + t.ms - offsetMinutes * 60_000;
}
