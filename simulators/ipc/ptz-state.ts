/**
 * The simulated pan/tilt/zoom head, in ONVIF's generic spaces (ONVIF PTZ spec §5.7):
 * pan and tilt in [-1, 1], zoom in [0, 1]. A continuous move integrates its velocity over time
 * (velocity 1 = 1 unit per second) until Stop, its timeout or a new command; absolute and
 * relative moves and presets jump at once. Positions are computed when read, from an injected
 * clock, so no timer runs.
 */

export interface PtzPosition {
  readonly pan: number;
  readonly tilt: number;
  readonly zoom: number;
}

export interface PtzPreset extends PtzPosition {
  readonly token: string;
  readonly name: string;
}

/** What `CameraSimulator.ptzState()` returns. */
export interface PtzSnapshot extends PtzPosition {
  readonly moving: boolean;
  readonly lastCommand: string | undefined;
  readonly commands: Record<string, number>;
}

interface Motion {
  readonly from: PtzPosition;
  readonly v: PtzPosition;
  readonly t0: number;
  /** Absolute end time in ms (timeout), or Infinity. */
  readonly until: number;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
const clampPos = (p: PtzPosition): PtzPosition => ({ pan: clamp(p.pan, -1, 1), tilt: clamp(p.tilt, -1, 1), zoom: clamp(p.zoom, 0, 1) });

/** Most presets a camera keeps (GetNodes MaximumNumberOfPresets). */
export const MAX_PRESETS = 16;

export class PtzHead {
  #pos: PtzPosition = { pan: 0, tilt: 0, zoom: 0 };
  #motion: Motion | undefined;
  #home: PtzPosition = { pan: 0, tilt: 0, zoom: 0 };
  #last: string | undefined;
  readonly #counts: Record<string, number> = {};
  readonly #presets = new Map<string, PtzPreset>();
  #nextPreset = 1;

  constructor(private readonly now: () => number = Date.now) {
    this.#addPreset('Home', { pan: 0, tilt: 0, zoom: 0 });
    this.#addPreset('Gate', { pan: 0.5, tilt: -0.25, zoom: 0.2 });
  }

  #addPreset(name: string, p: PtzPosition, token?: string): PtzPreset {
    const t = token ?? `preset-${this.#nextPreset++}`;
    const preset = { token: t, name, ...clampPos(p) };
    this.#presets.set(t, preset);
    return preset;
  }

  /** Counts a command (every PTZ request, including reads). */
  record(command: string): void {
    this.#last = command;
    this.#counts[command] = (this.#counts[command] ?? 0) + 1;
  }

  position(): PtzPosition {
    const m = this.#motion;
    if (m === undefined) return this.#pos;
    const dt = (Math.min(this.now(), m.until) - m.t0) / 1000;
    return clampPos({ pan: m.from.pan + m.v.pan * dt, tilt: m.from.tilt + m.v.tilt * dt, zoom: m.from.zoom + m.v.zoom * dt });
  }

  /** Pan/tilt and zoom moving flags; a move that reached its limits or timeout is idle. */
  moving(): { panTilt: boolean; zoom: boolean } {
    const m = this.#motion;
    if (m === undefined || this.now() >= m.until) return { panTilt: false, zoom: false };
    const p = this.position();
    const atLimit = (v: number, x: number, lo: number, hi: number): boolean => (v > 0 && x >= hi) || (v < 0 && x <= lo) || v === 0;
    return {
      panTilt: !(atLimit(m.v.pan, p.pan, -1, 1) && atLimit(m.v.tilt, p.tilt, -1, 1)),
      zoom: !atLimit(m.v.zoom, p.zoom, 0, 1),
    };
  }

  #settle(): void {
    this.#pos = this.position();
    this.#motion = undefined;
  }

  /** Starts moving with `v` (missing axes keep 0) for `timeoutMs` (undefined = until Stop). */
  continuous(v: Partial<PtzPosition>, timeoutMs: number | undefined): void {
    this.#settle();
    const vel = { pan: clamp(v.pan ?? 0, -1, 1), tilt: clamp(v.tilt ?? 0, -1, 1), zoom: clamp(v.zoom ?? 0, -1, 1) };
    if (vel.pan === 0 && vel.tilt === 0 && vel.zoom === 0) return;
    const t0 = this.now();
    this.#motion = { from: this.#pos, v: vel, t0, until: timeoutMs === undefined ? Infinity : t0 + timeoutMs };
  }

  /** Stops pan/tilt and/or zoom (ONVIF Stop: both when neither flag is given). */
  stop(panTilt = true, zoom = true): void {
    const m = this.#motion;
    this.#settle();
    if (m === undefined || (panTilt && zoom)) return;
    // Keep the axis that was not stopped moving from here.
    const v = { pan: panTilt ? 0 : m.v.pan, tilt: panTilt ? 0 : m.v.tilt, zoom: zoom ? 0 : m.v.zoom };
    const t0 = this.now();
    if (v.pan !== 0 || v.tilt !== 0 || v.zoom !== 0) this.#motion = { from: this.#pos, v, t0, until: m.until };
  }

  absolute(p: Partial<PtzPosition>): void {
    this.#settle();
    this.#pos = clampPos({ ...this.#pos, ...p });
  }

  relative(d: Partial<PtzPosition>): void {
    this.#settle();
    this.#pos = clampPos({ pan: this.#pos.pan + (d.pan ?? 0), tilt: this.#pos.tilt + (d.tilt ?? 0), zoom: this.#pos.zoom + (d.zoom ?? 0) });
  }

  presets(): PtzPreset[] {
    return [...this.#presets.values()];
  }

  /** Jumps to a preset; false when the token is unknown. */
  gotoPreset(token: string): boolean {
    const p = this.#presets.get(token);
    if (p === undefined) return false;
    this.#settle();
    this.#pos = { pan: p.pan, tilt: p.tilt, zoom: p.zoom };
    return true;
  }

  /** Stores the current position (replacing `token` when given); undefined when full. */
  setPreset(name: string | undefined, token: string | undefined): PtzPreset | undefined {
    if (token !== undefined && this.#presets.has(token)) {
      const old = this.#presets.get(token)!;
      return this.#addPreset(name ?? old.name, this.position(), token);
    }
    if (this.#presets.size >= MAX_PRESETS) return undefined;
    const t = token ?? undefined;
    return this.#addPreset(name ?? `Preset ${this.#nextPreset}`, this.position(), t);
  }

  removePreset(token: string): boolean {
    return this.#presets.delete(token);
  }

  gotoHome(): void {
    this.absolute(this.#home);
  }

  setHome(): void {
    this.#home = this.position();
  }

  snapshot(): PtzSnapshot {
    const p = this.position();
    const mv = this.moving();
    return { ...p, moving: mv.panTilt || mv.zoom, lastCommand: this.#last, commands: { ...this.#counts } };
  }
}
