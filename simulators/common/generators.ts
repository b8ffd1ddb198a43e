/**
 * Value generators for simulated devices, protocol-neutral: each turns the time since the
 * simulator started (ms) into a value. Specs are zod-typed so a simulator YAML file can name them:
 *
 * ```yaml
 * temperature: { kind: sine, amplitude: 5, offset: 20, period: 1m }
 * pressure:    { kind: randomWalk, start: 1.0, step: 0.05, min: 0.5, max: 1.5 }
 * runs:        { kind: counter, start: 0, increment: 1, every: 1s, wrap: 65536 }
 * ```
 *
 * Generators are pure functions of time and seed (random walk keeps a cache but recomputes from
 * the start when asked about an earlier time), so tests get the same values on every run.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { duration } from '../../src/drivers/sdk/schema.ts';
import { mulberry32 } from './prng.ts';

/** A generated value. */
export type GeneratedValue = number | boolean | string;
/** A generator: time since start (ms) to value. */
export type Generator = (tMs: number) => GeneratedValue;

const scalar = z.union([z.number(), z.boolean(), z.string()]);
const every = duration().pipe(z.number().positive()).default(1000);

const constantSpec = z.strictObject({ kind: z.literal('constant'), value: scalar });

const rampSpec = z
  .strictObject({
    kind: z.literal('ramp'),
    from: z.number(),
    to: z.number(),
    /** Added every `every` ms; after passing `to` the ramp starts again at `from`. */
    step: z.number().positive().optional(),
    every,
    /** Alternative to `step`: a smooth ramp from `from` to `to` over this time, then again. */
    period: duration().pipe(z.number().positive()).optional(),
  })
  .refine((v) => (v.step === undefined) !== (v.period === undefined), { message: 'give exactly one of step or period' });

const sineSpec = z.strictObject({
  kind: z.literal('sine'),
  amplitude: z.number(),
  offset: z.number().default(0),
  period: duration().pipe(z.number().positive()),
  /** Phase shift in degrees. */
  phase: z.number().default(0),
});

const randomWalkSpec = z
  .strictObject({
    kind: z.literal('randomWalk'),
    /** Starting value; the middle of [min, max] when absent. */
    start: z.number().optional(),
    /** Largest change per move (each move is uniform in [-step, step]). */
    step: z.number().positive(),
    min: z.number(),
    max: z.number(),
    /** One move every this many ms. */
    every,
    /** Round every value to an integer (for integer attributes). */
    integer: z.boolean().default(false),
  })
  .refine((v) => v.min <= v.max, { message: 'min must not exceed max' });

const counterSpec = z
  .strictObject({
    kind: z.literal('counter'),
    start: z.number().default(0),
    increment: z.number().default(1),
    every,
    /** Exclusive upper end: the counter goes from `start` up to below `wrap`, then back to `start`. */
    wrap: z.number().optional(),
  })
  .refine((v) => v.wrap === undefined || v.wrap > v.start, { message: 'wrap must be greater than start' });

const replaySpec = z.strictObject({
  kind: z.literal('replay'),
  /** A CSV file: a header `t_ms,value` then rows, or one value per line (each lasting `every`). */
  file: z.string().min(1),
  every,
  /** Start over after the last row (default); otherwise hold the last value. */
  loop: z.boolean().default(true),
});

const toggleSpec = z.strictObject({
  kind: z.literal('toggle'),
  /** Flips every this many ms. */
  every,
  start: z.boolean().default(false),
});

const cycleSpec = z.strictObject({
  kind: z.literal('cycle'),
  /** Values taken in turn (e.g. the values of an enum). */
  values: z.array(scalar).min(1),
  every,
});

/** One generator as written in a simulator file; `kind` selects it. */
export const generatorSpecSchema = z.discriminatedUnion('kind', [
  constantSpec,
  rampSpec,
  sineSpec,
  randomWalkSpec,
  counterSpec,
  replaySpec,
  toggleSpec,
  cycleSpec,
]);
/** A parsed generator spec (durations in ms, defaults filled). */
export type GeneratorSpec = z.output<typeof generatorSpecSchema>;
/** A generator spec as written (durations may be strings, defaults may be missing). */
export type GeneratorSpecInput = z.input<typeof generatorSpecSchema>;

/** Options for {@link createGenerator}. */
export interface GeneratorOptions {
  /** Folder that relative `replay` file paths are resolved against (default: the working directory). */
  readonly baseDir?: string;
}

/**
 * Makes a generator from a spec (parsed or as written). `seed` fixes the random walk; the other
 * kinds do not use it.
 */
export function createGenerator(spec: GeneratorSpecInput | GeneratorSpec, seed: number, options: GeneratorOptions = {}): Generator {
  const s = generatorSpecSchema.parse(spec);
  switch (s.kind) {
    case 'constant':
      return () => s.value;
    case 'ramp':
      return rampGenerator(s);
    case 'sine': {
      const phase = (s.phase * Math.PI) / 180;
      return (t) => s.offset + s.amplitude * Math.sin((2 * Math.PI * t) / s.period + phase);
    }
    case 'randomWalk':
      return randomWalkGenerator(s, seed);
    case 'counter':
      return (t) => {
        const n = ticks(t, s.every);
        if (s.wrap === undefined) return s.start + s.increment * n;
        const span = s.wrap - s.start;
        return s.start + mod(s.increment * n, span);
      };
    case 'replay': {
      const path = isAbsolute(s.file) ? s.file : resolve(options.baseDir ?? process.cwd(), s.file);
      return replayGenerator(parseReplay(readFileSync(path, 'utf8'), s.every), s.loop);
    }
    case 'toggle':
      return (t) => (ticks(t, s.every) % 2 === 1 ? !s.start : s.start);
    case 'cycle':
      return (t) => s.values[ticks(t, s.every) % s.values.length]!;
  }
}

/** Whole intervals elapsed at time t (never negative). */
function ticks(t: number, every: number): number {
  return Math.max(0, Math.floor(t / every));
}

/** Modulo that is never negative (for decreasing counters). */
function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function rampGenerator(s: Extract<GeneratorSpec, { kind: 'ramp' }>): Generator {
  const span = s.to - s.from;
  if (s.period !== undefined) {
    const period = s.period;
    return (t) => s.from + span * (mod(t, period) / period);
  }
  const step = s.step!;
  // Values from, from+step, ... while not past `to` (a descending ramp steps downwards).
  const count = Math.floor(Math.abs(span) / step + 1e-9) + 1;
  const signed = span < 0 ? -step : step;
  return (t) => s.from + signed * (ticks(t, s.every) % count);
}

function randomWalkGenerator(s: Extract<GeneratorSpec, { kind: 'randomWalk' }>, seed: number): Generator {
  const fix = (v: number) => (s.integer ? Math.round(v) : v);
  const clamp = (v: number) => Math.min(s.max, Math.max(s.min, v));
  const start = clamp(fix(s.start ?? (s.min + s.max) / 2));
  let rand = mulberry32(seed);
  let n = 0;
  let value = start;
  return (t) => {
    const want = ticks(t, s.every);
    if (want < n) {
      // Asked about an earlier time: replay from the start so the answer only depends on t.
      rand = mulberry32(seed);
      n = 0;
      value = start;
    }
    while (n < want) {
      let next = value + (rand() * 2 - 1) * s.step;
      // Reflect at the bounds so the walk does not stick to them.
      if (next > s.max) next = s.max - (next - s.max);
      if (next < s.min) next = s.min + (s.min - next);
      value = clamp(fix(next));
      n++;
    }
    return value;
  };
}

/** Rows of a replay file: value `v` holds from `t` (ms) on; `period` is the loop length. */
export interface ReplayTable {
  readonly rows: readonly { readonly t: number; readonly v: GeneratedValue }[];
  readonly period: number;
}

/**
 * Parses a replay CSV. With a `t_ms,value` header each row gives its start time; the last row lasts
 * as long as the gap before it. Without the header each non-empty line is one value lasting `every` ms.
 */
export function parseReplay(text: string, every: number): ReplayTable {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  if (lines.length === 0) throw new Error('replay file has no values');
  if (/^t_ms\s*,\s*value$/i.test(lines[0]!)) {
    const rows = lines.slice(1).map((line, i) => {
      const comma = line.indexOf(',');
      const t = Number(line.slice(0, comma));
      if (comma < 0 || !Number.isFinite(t)) throw new Error(`replay row ${i + 2}: expected "t_ms,value", got "${line}"`);
      return { t, v: parseValue(line.slice(comma + 1)) };
    });
    if (rows.length === 0) throw new Error('replay file has a header but no rows');
    rows.sort((a, b) => a.t - b.t);
    const last = rows[rows.length - 1]!;
    const gap = rows.length > 1 ? last.t - rows[rows.length - 2]!.t : every;
    return { rows, period: last.t + (gap > 0 ? gap : every) };
  }
  const rows = lines.map((line, i) => ({ t: i * every, v: parseValue(line) }));
  return { rows, period: rows.length * every };
}

function parseValue(raw: string): GeneratedValue {
  const s = raw.trim().replace(/^"(.*)"$/, '$1');
  if (s === 'true') return true;
  if (s === 'false') return false;
  const n = Number(s);
  return s.length > 0 && Number.isFinite(n) ? n : s;
}

function replayGenerator(table: ReplayTable, loop: boolean): Generator {
  const { rows, period } = table;
  return (t) => {
    const at = loop ? mod(t, period) : Math.max(0, t);
    // Last row that started at or before `at` (rows are few; binary search keeps long files cheap).
    let lo = 0;
    let hi = rows.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (rows[mid]!.t <= at) lo = mid;
      else hi = mid - 1;
    }
    return rows[lo]!.v;
  };
}
