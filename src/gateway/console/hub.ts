/**
 * The console's live feed. Every `intervalMs` it looks at each device runtime (its snapshot,
 * online state and last poll) and turns what changed into events for the server-sent event
 * streams, while keeping per device the last minutes of every numeric attribute (sparklines) and
 * the last online/offline changes (lifecycle history).
 *
 * It polls rather than hooks into DeviceRuntime so that the runtime stays unaware of the console;
 * the cost is one pass over the snapshots per interval and a lifecycle time resolution of
 * `intervalMs`.
 */
import type { AttributeValue } from '../../devicemodel/types.ts';
import { LifecycleLog, Series } from './series.ts';
import type { LifecycleEntry } from './series.ts';

/** What the hub reads of a device runtime (DeviceRuntime satisfies it). */
export interface WatchedDevice {
  readonly name: string;
  readonly isOnline: boolean | undefined;
  readonly lastPollAt: number | undefined;
  readonly lastError: { readonly code: string; readonly message: string } | undefined;
  snapshot(): ReadonlyMap<string, { readonly value: AttributeValue; readonly quality: string; readonly ts: number; readonly error?: { readonly code: string; readonly message: string } }>;
}

/** A property value as the REST API shows it (bigint as a decimal string). */
export interface LiveValue {
  readonly value: unknown;
  readonly quality: string;
  readonly ts: number;
  readonly error?: { readonly code: string; readonly message: string };
}

/** One event of the live feed. */
export type HubEvent =
  /** Properties of one device that got a new sample since the last event. */
  | { readonly type: 'values'; readonly device: string; readonly properties: Readonly<Record<string, LiveValue>> }
  /** A device went online or offline. */
  | { readonly type: 'lifecycle'; readonly device: string; readonly entry: LifecycleEntry }
  /** Devices whose summary (last poll, counters, state) changed: the list page refreshes them. */
  | { readonly type: 'status'; readonly devices: readonly string[] };

export interface HubOptions {
  /** Pause ticking after this long without interest (no stream open, no request). */
  readonly idleMs?: number;
  /** The current devices (read on every tick, so reloads that replace devices are followed). */
  readonly devices: () => ReadonlyMap<string, WatchedDevice>;
  readonly now?: () => number;
  /** How often the devices are looked at, ms (default 500). */
  readonly intervalMs?: number;
  /** Sparkline window, ms (default 5 minutes). */
  readonly windowMs?: number;
  /** Samples kept per attribute (default 300). */
  readonly maxSamples?: number;
  /** Lifecycle changes kept per device (default 100). */
  readonly maxLifecycle?: number;
  /** Called at every tick; returning true stops the hub (the gateway is shutting down). */
  readonly stopWhen?: () => boolean;
  /** Called once when the hub stops. */
  readonly onStop?: () => void;
}

interface Watch {
  readonly series: Map<string, Series>;
  readonly lifecycle: LifecycleLog;
  /** ts of every attribute at the last tick. */
  readonly seen: Map<string, number>;
  lastPollAt: number | undefined;
  online: boolean | undefined;
}

type Listener = (e: HubEvent) => void;

export class LiveHub {
  private readonly watches = new Map<string, Watch>();
  private readonly listeners = new Set<{ device: string | undefined; fn: Listener }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;
  private lastInterest = 0;

  constructor(private readonly opts: HubOptions) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Someone looks (a page, a stream, a history request): tick, or keep ticking. With
   * `idleMs`, the hub pauses once nobody has looked for that long and no stream is open, so a
   * gateway whose console is closed pays nothing for it (sparklines start when it is opened).
   */
  touch(): void {
    this.lastInterest = this.now();
    this.start();
  }

  /** Starts ticking (the timer does not keep the process alive). */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs ?? 500);
    this.timer.unref();
  }

  /** Stops ticking and tells every listener's stream to end. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.opts.onStop?.();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Listens to events, of one device or (device undefined) of all; returns the unsubscribe function. */
  subscribe(device: string | undefined, fn: Listener): () => void {
    const entry = { device, fn };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** The sparkline samples and lifecycle history of a device; undefined for an unknown device. */
  history(device: string): { series: Record<string, [number, number][]>; lifecycle: readonly LifecycleEntry[] } | undefined {
    const w = this.watches.get(device);
    if (w === undefined) return this.opts.devices().has(device) ? { series: {}, lifecycle: [] } : undefined;
    const series: Record<string, [number, number][]> = {};
    for (const [k, s] of w.series) series[k] = s.points();
    return { series, lifecycle: w.lifecycle.list() };
  }

  /** One look at every device; public so that tests can drive it without timers. */
  tick(): void {
    if (this.stopped) return;
    if (this.opts.stopWhen?.()) {
      this.stop();
      return;
    }
    const idle = this.opts.idleMs;
    if (idle !== undefined && this.listeners.size === 0 && this.now() - this.lastInterest > idle && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const devices = this.opts.devices();
    const status: string[] = [];
    for (const [name, d] of devices) {
      let w = this.watches.get(name);
      if (w === undefined) {
        w = { series: new Map(), lifecycle: new LifecycleLog(this.opts.maxLifecycle ?? 100), seen: new Map(), lastPollAt: undefined, online: undefined };
        this.watches.set(name, w);
      }
      const changed = this.values(d, w);
      if (changed !== undefined) this.emit({ type: 'values', device: name, properties: changed });
      const online = d.isOnline;
      if (online !== undefined && online !== w.online) {
        const err = d.lastError;
        const entry: LifecycleEntry = { at: this.now(), online, ...(!online && err ? { error: { code: err.code, message: err.message } } : {}) };
        if (w.lifecycle.add(entry)) this.emit({ type: 'lifecycle', device: name, entry });
      }
      if (online !== w.online || d.lastPollAt !== w.lastPollAt) status.push(name);
      w.online = online;
      w.lastPollAt = d.lastPollAt;
    }
    for (const name of this.watches.keys()) {
      if (!devices.has(name)) {
        this.watches.delete(name);
        status.push(name);
      }
    }
    if (status.length > 0) this.emit({ type: 'status', devices: status });
  }

  /** New samples of a device since the last tick, recorded into its series. */
  private values(d: WatchedDevice, w: Watch): Record<string, LiveValue> | undefined {
    let out: Record<string, LiveValue> | undefined;
    for (const [attr, s] of d.snapshot()) {
      if (w.seen.get(attr) === s.ts) continue;
      w.seen.set(attr, s.ts);
      out ??= {};
      out[attr] = {
        value: typeof s.value === 'bigint' ? s.value.toString() : s.quality === 'bad' ? null : (s.value ?? null),
        quality: s.quality,
        ts: s.ts,
        ...(s.error ? { error: { code: s.error.code, message: s.error.message } } : {}),
      };
      const num = s.quality === 'bad' ? undefined : typeof s.value === 'number' ? s.value : typeof s.value === 'bigint' ? Number(s.value) : undefined;
      if (num === undefined || !Number.isFinite(num)) continue;
      let series = w.series.get(attr);
      if (series === undefined) {
        series = new Series({ windowMs: this.opts.windowMs ?? 5 * 60_000, maxSamples: this.opts.maxSamples ?? 300 });
        w.series.set(attr, series);
      }
      series.add(s.ts, num);
    }
    return out;
  }

  private emit(e: HubEvent): void {
    const device = e.type === 'status' ? undefined : e.device;
    for (const l of this.listeners) {
      if (l.device !== undefined && device !== undefined && l.device !== device) continue;
      if (l.device !== undefined && e.type === 'status' && !e.devices.includes(l.device)) continue;
      try {
        l.fn(e);
      } catch {
        // A broken listener (a closed stream) must not stop the others.
      }
    }
  }
}
