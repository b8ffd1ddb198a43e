/** zod helpers for driver schemas, so that every driver reads durations and bases the same way. */
import { z } from 'zod';
import { parseDuration } from '../../devicemodel/duration.ts';

/**
 * A duration: a Go-style string (`5s`, `500ms`, `1m`) or a number of milliseconds.
 * Produces milliseconds.
 */
export function duration(): z.ZodType<number, string | number> {
  return z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration; write e.g. 500ms, 5s, 1m` });
      return z.NEVER;
    }
    return ms;
  });
}

/**
 * The `interval` and `timeout` fields every connection schema includes (Baetyl's keys), with
 * defaults. Spread into a driver's `z.object({...})`.
 */
export function baseConnectionShape(defaults: { interval: number; timeout: number }) {
  return {
    interval: duration().default(defaults.interval),
    timeout: duration().default(defaults.timeout),
  };
}

/** Reads an integer written in decimal or as a `0x`-prefixed hex string (Baetyl writes addresses as "0x.."). */
export function intOrHex(): z.ZodType<number, string | number> {
  return z.union([z.number().int(), z.string()]).transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const t = v.trim();
    const n = /^0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : Number.NaN;
    if (!Number.isSafeInteger(n)) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not an integer; write e.g. "0x10" or 16` });
      return z.NEVER;
    }
    return n;
  });
}
