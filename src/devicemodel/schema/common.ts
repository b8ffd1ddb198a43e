/**
 * Small zod pieces shared by the schemas of Baetyl's files. Baetyl's cloud writes some numbers as
 * strings (`id: "1"`) and Go's YAML decoder accepts either, so these accept both.
 */
import { z } from 'zod';

/** A string, or a number written without quotes (`id: 1` as well as `id: "1"`); produces a string. */
export function idString() {
  return z
    .union([z.string().min(1), z.number().int().nonnegative()])
    .transform((v) => String(v))
    .describe('a non-empty string or integer (e.g. "1")');
}

/** A number, or a string holding one (`"0.5"`); produces a number. */
export function looseNumber() {
  return z
    .union([z.number(), z.string().regex(/^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/, { error: 'expected a number' })])
    .transform((v) => (typeof v === 'number' ? v : Number(v)))
    .describe('a number');
}

/** An integer, or a string holding one; produces a number. */
export function looseInt() {
  return z
    .union([z.number().int(), z.string().regex(/^\s*-?\d+\s*$/, { error: 'expected an integer' })])
    .transform((v) => (typeof v === 'number' ? v : Number(v)))
    .describe('an integer');
}

/**
 * A name used inside MQTT topics (device, product): non-empty, without `/`, `+`, `#` or blanks,
 * which would change the topic's meaning.
 */
export function topicName(what: string) {
  return z
    .string()
    .regex(/^[^/+#\s]+$/, { error: `a ${what} name is part of MQTT topics: non-empty, without "/", "+", "#" or spaces` })
    .describe(`a ${what} name (no "/", "+", "#" or spaces)`);
}

/** Values Baetyl always writes as `null` in edge files (`current`, `expect`): accepted and ignored. */
export const ignored = z.unknown().optional();
