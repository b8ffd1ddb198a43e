/**
 * PTZ commands: validation of written values (pure) into one ONVIF PTZ request. Values use the
 * ONVIF generic spaces (ONVIF PTZ Service Spec §5.7 / Core §10.10: pan/tilt position and
 * translation in [-1, 1], zoom position in [0, 1], velocities in [-1, 1]). A bad value never
 * reaches the camera.
 */
import type { PointValue } from '../sdk/index.ts';

export type MoveMode = 'continuous' | 'relative' | 'absolute';

/** One PTZ request. */
export type PtzCommand =
  | {
      readonly op: 'move';
      readonly mode: MoveMode;
      readonly pan?: number;
      readonly tilt?: number;
      readonly zoom?: number;
      /** Continuous moves: stop after this many ms (camera side). */
      readonly timeout?: number;
    }
  | { readonly op: 'stop' }
  | { readonly op: 'preset'; readonly token: string }
  | { readonly op: 'home' }
  /** A write of `false` to a trigger point: accepted, nothing sent. */
  | { readonly op: 'none' };

type Result = { ok: true; command: PtzCommand } | { ok: false; error: string };

const MOVE_KEYS = new Set(['pan', 'tilt', 'zoom', 'mode', 'timeout']);
/** Preset tokens are sent inside XML: a conservative token alphabet keeps them inert. */
const PRESET_TOKEN = /^[A-Za-z0-9_.:-]{1,64}$/;

function range(mode: MoveMode, axis: 'pan' | 'tilt' | 'zoom'): [number, number] {
  return mode === 'absolute' && axis === 'zoom' ? [0, 1] : [-1, 1];
}

/** Parses a `ptz.move` value: a JSON object (or its text) `{pan?, tilt?, zoom?, mode?, timeout?}`. */
export function parseMove(value: PointValue | object): Result {
  let v: unknown = value;
  if (typeof value === 'string') {
    try {
      v = JSON.parse(value);
    } catch {
      return { ok: false, error: `ptz.move takes a JSON object such as {"pan":0.5,"tilt":0,"mode":"relative"}, not ${JSON.stringify(value).slice(0, 60)}` };
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, error: 'ptz.move takes an object {pan, tilt, zoom, mode}' };
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !MOVE_KEYS.has(k));
  if (unknown.length > 0) return { ok: false, error: `ptz.move: unknown key(s) ${unknown.join(', ')} (allowed: pan, tilt, zoom, mode, timeout)` };
  const mode = o.mode ?? 'relative';
  if (mode !== 'continuous' && mode !== 'relative' && mode !== 'absolute') return { ok: false, error: `ptz.move: mode must be continuous, relative or absolute, not ${JSON.stringify(mode)}` };
  const out: { pan?: number; tilt?: number; zoom?: number; timeout?: number } = {};
  for (const axis of ['pan', 'tilt', 'zoom'] as const) {
    const x = o[axis];
    if (x === undefined) continue;
    const [lo, hi] = range(mode, axis);
    if (typeof x !== 'number' || !Number.isFinite(x)) return { ok: false, error: `ptz.move: ${axis} must be a number in [${lo}, ${hi}], not ${JSON.stringify(x)}` };
    if (x < lo || x > hi) return { ok: false, error: `ptz.move: ${axis} ${x} is outside [${lo}, ${hi}] (${mode} move, ONVIF generic space)` };
    out[axis] = x;
  }
  if (out.pan === undefined && out.tilt === undefined && out.zoom === undefined) return { ok: false, error: 'ptz.move: give at least one of pan, tilt, zoom' };
  if (o.timeout !== undefined) {
    if (mode !== 'continuous') return { ok: false, error: 'ptz.move: timeout applies to continuous moves only' };
    if (typeof o.timeout !== 'number' || !Number.isInteger(o.timeout) || o.timeout <= 0 || o.timeout > 3_600_000) {
      return { ok: false, error: `ptz.move: timeout is milliseconds in 1..3600000, not ${JSON.stringify(o.timeout)}` };
    }
    out.timeout = o.timeout;
  }
  return { ok: true, command: { op: 'move', mode, ...out } };
}

/** Validates a write to a PTZ point (`move`, `stop`, `preset`, `home`). */
export function parsePtzWrite(field: 'move' | 'stop' | 'preset' | 'home', value: PointValue): Result {
  switch (field) {
    case 'move':
      return parseMove(value);
    case 'stop':
    case 'home':
      if (typeof value !== 'boolean') return { ok: false, error: `ptz.${field} takes true (false does nothing), not ${JSON.stringify(String(value))}` };
      return { ok: true, command: value ? { op: field } : { op: 'none' } };
    case 'preset': {
      const token = typeof value === 'bigint' || typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
      if (typeof value === 'number' && (!Number.isInteger(value) || value < 0)) return { ok: false, error: `ptz.preset takes a preset token or a non-negative integer, not ${value}` };
      if (!PRESET_TOKEN.test(token)) return { ok: false, error: `ptz.preset: ${JSON.stringify(String(value)).slice(0, 70)} is not a preset token (letters, digits, _ . : -, at most 64)` };
      return { ok: true, command: { op: 'preset', token } };
    }
  }
}
