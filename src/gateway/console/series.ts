/**
 * Bounded in-memory histories for the console: the recent samples of one numeric attribute (for
 * sparklines) and the recent online/offline changes of one device. Pure: time comes in as numbers.
 */

/** Limits of a {@link Series}. */
export interface SeriesLimits {
  /** Samples older than this (ms, relative to the newest) are dropped. */
  readonly windowMs: number;
  /** At most this many samples are kept. */
  readonly maxSamples: number;
}

/**
 * The last minutes of one numeric attribute. Samples closer together than
 * `windowMs / maxSamples` replace the previous one, so a fast poll interval still covers the
 * whole window instead of filling the buffer with the last few seconds.
 */
export class Series {
  private readonly t: number[] = [];
  private readonly v: number[] = [];
  private readonly spacing: number;

  constructor(private readonly limits: SeriesLimits) {
    this.spacing = limits.windowMs / limits.maxSamples;
  }

  /** Adds a sample; a sample not newer than the last one is ignored. */
  add(ts: number, value: number): void {
    const n = this.t.length;
    const last = n > 0 ? this.t[n - 1]! : -Infinity;
    if (ts <= last) return;
    // Keep the first sample of a spacing slot as its anchor and the latest value in the slot.
    if (n >= 2 && ts - this.t[n - 2]! < this.spacing) {
      this.t[n - 1] = ts;
      this.v[n - 1] = value;
    } else {
      this.t.push(ts);
      this.v.push(value);
    }
    let drop = 0;
    while (drop < this.t.length && (this.t.length - drop > this.limits.maxSamples || ts - this.t[drop]! > this.limits.windowMs)) drop++;
    if (drop > 0) {
      this.t.splice(0, drop);
      this.v.splice(0, drop);
    }
  }

  /** The samples, oldest first, as `[ts, value]` pairs. */
  points(): [number, number][] {
    return this.t.map((t, i) => [t, this.v[i]!]);
  }

  get size(): number {
    return this.t.length;
  }
}

/** One online/offline change of a device. */
export interface LifecycleEntry {
  /** Epoch ms when the change was seen. */
  readonly at: number;
  readonly online: boolean;
  /** Why the device went offline, when known. */
  readonly error?: { readonly code: string; readonly message: string };
}

/** The last `max` lifecycle changes of a device, oldest first. */
export class LifecycleLog {
  private readonly entries: LifecycleEntry[] = [];

  constructor(private readonly max: number) {}

  /** Appends a change; the same state twice in a row is not a change and is ignored. */
  add(entry: LifecycleEntry): boolean {
    const last = this.entries[this.entries.length - 1];
    if (last !== undefined && last.online === entry.online) return false;
    this.entries.push(entry);
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
    return true;
  }

  list(): readonly LifecycleEntry[] {
    return this.entries;
  }
}
