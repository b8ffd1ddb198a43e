/**
 * One camera sub-device inside a session: its streams (which URL health, snapshots and the relay
 * use), the snapshot schedule, and the supervised relay. What must outlive a reconnect (the
 * snapshot folder and the last snapshot, the relay switch written at run time, the restart count,
 * the last PTZ command and event states) lives in {@link DeviceMemory}, kept by the driver.
 */
import path from 'node:path';
import { DriverError, Gate } from '../sdk/index.ts';
import type { DriverContext, Logger, PointError } from '../sdk/index.ts';
import type { ProfileSelector } from './address.ts';
import type { IpcConnection } from './connection.ts';
import { selectProfile } from './facts.ts';
import { forwardArgs, Supervisor } from './forward.ts';
import type { ForwardState } from './forward.ts';
import { Prober, redact } from './ffprobe.ts';
import { fetchWithAuth } from './http-auth.ts';
import type { OnvifCamera } from './onvif.ts';
import { grabFrame, SnapshotStore } from './snapshot.ts';
import type { SnapshotInfo } from './snapshot.ts';

/** Per-device state kept across sessions (reconnects). */
export interface DeviceMemory {
  store: SnapshotStore | undefined;
  /** Set by writes to forward.enabled; undefined: the configured `forward.enabled`. */
  forwardEnabled: boolean | undefined;
  /** Relay restarts of closed sessions. */
  restarts: number;
  ptzLast: { move: string; preset: string };
  events: { motion?: boolean; tamper?: boolean };
}

export function newMemory(): DeviceMemory {
  return { store: undefined, forwardEnabled: undefined, restarts: 0, ptzLast: { move: '', preset: '' }, events: {} };
}

/** `rtsp://host/x` with the camera's user inserted when the URI has none (ffmpeg answers the RTSP challenge). */
export function withCredentials(uri: string, username: string | undefined, password: string | undefined): string {
  if (username === undefined || username === '') return uri;
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/@]*@)?(.*)$/i.exec(uri);
  if (m === null || m[2] !== undefined) return uri;
  return `${m[1]}${encodeURIComponent(username)}:${encodeURIComponent(password ?? '')}@${m[3]}`;
}

/** A file-system-safe folder name for a device. */
export function folderName(device: string): string {
  const s = device.replace(/[^A-Za-z0-9._-]/g, '_');
  return s === '' || s === '.' || s === '..' ? `_${s}` : s;
}

export interface CameraDeviceDeps {
  readonly name: string;
  readonly connection: IpcConnection;
  readonly camera: OnvifCamera | undefined;
  readonly memory: DeviceMemory;
  readonly ctx: DriverContext;
  readonly log: Logger;
  /** One ffprobe at a time per camera. */
  readonly probeGate: Gate;
  /** Probers of the camera's streams, by URL (shared by its devices). */
  readonly probers: Map<string, Prober>;
}

export class CameraDevice {
  #snapshotTimer: NodeJS.Timeout | undefined;
  readonly #snapshotGate = new Gate(1);
  #forwarder: Supervisor | undefined;
  #closed = false;
  readonly #snapshotAbort = new AbortController();

  constructor(private readonly d: CameraDeviceDeps) {
    const c = d.connection;
    if (d.memory.store === undefined) {
      const base = c.service.cachePath === undefined ? path.join(d.ctx.dataDir, 'ipc') : path.resolve(d.ctx.dataDir, c.service.cachePath);
      d.memory.store = new SnapshotStore(path.join(base, folderName(d.name)), c.snapshot?.keep ?? 10, c.service.cacheTime * 60_000);
    }
  }

  get store(): SnapshotStore {
    return this.d.memory.store!;
  }

  /** Starts the snapshot schedule and, when enabled, the relay. */
  start(): void {
    const every = this.d.connection.snapshotEvery;
    if (every !== undefined && every > 0) this.#schedule(every);
    if (this.d.connection.forward !== undefined && (this.d.memory.forwardEnabled ?? this.d.connection.forward.enabled)) this.#startForward();
  }

  /** The stream URL of a profile selection (streamAddress when no profile is named). */
  streamUrl(sel: ProfileSelector | number | string | undefined): { url: string } | { error: PointError } {
    const c = this.d.connection;
    if (sel === undefined && c.streamAddress !== undefined) return { url: c.streamAddress };
    const cam = this.d.camera;
    if (cam === undefined) {
      return { error: { code: 'Unsupported', message: 'profiles need the ONVIF service; this camera is configured with streamAddress only' } };
    }
    const p = selectProfile(cam.profiles, sel as never);
    if (p === undefined) return { error: { code: 'BadAddress', message: `no profile ${JSON.stringify(sel)} (profiles: ${cam.profiles.map((x) => x.token).join(', ') || 'none'})` } };
    if (!p.streamUri) return { error: { code: 'Unsupported', message: `profile ${p.token} has no stream URI` } };
    return { url: withCredentials(p.streamUri, c.username, c.password) };
  }

  /** The prober of a stream (created on first use; one ffprobe per camera at a time). */
  prober(url: string): Prober {
    let p = this.d.probers.get(url);
    if (p === undefined) {
      const c = this.d.connection.probe;
      p = new Prober(url, { interval: c.interval, timeout: c.timeout, transport: c.transport, now: () => this.d.ctx.clock.now(), gate: this.d.probeGate });
      this.d.probers.set(url, p);
    }
    return p;
  }

  /** Takes one snapshot now (one at a time per device) and saves it. */
  takeSnapshot(): Promise<SnapshotInfo> {
    return this.#snapshotGate.run(async () => {
      if (this.#closed) throw new DriverError('Offline', 'the camera session is closed');
      const c = this.d.connection;
      const sel = c.snapshot?.profile;
      const timeout = c.snapshot?.timeout ?? 10_000;
      const source = c.snapshot?.source ?? 'auto';
      const cam = this.d.camera;
      const profile = cam === undefined ? undefined : selectProfile(cam.profiles, sel);
      const signal = this.#snapshotAbort.signal;
      let jpeg: Buffer;
      if (source !== 'stream' && profile?.snapshotUri) {
        jpeg = await fetchWithAuth(profile.snapshotUri, { ...(c.username !== undefined ? { username: c.username, password: c.password ?? '' } : {}), timeout, signal });
      } else if (source === 'onvif') {
        throw new DriverError('Unsupported', `profile ${profile?.token ?? '(none)'} has no snapshot URI; use snapshot.source stream`);
      } else {
        const s = this.streamUrl(sel);
        if ('error' in s) throw new DriverError(s.error.code, s.error.message);
        jpeg = await grabFrame(s.url, { transport: c.probe.transport, timeoutMs: timeout, signal });
      }
      if (this.#closed) throw new DriverError('Offline', 'the camera session is closed');
      const info = await this.store.save(jpeg, this.d.ctx.clock.now());
      this.d.log.debug({ path: info.path, size: info.size }, 'snapshot saved');
      const topic = c.snapshot?.publishTopic;
      if (topic !== undefined && this.d.ctx.publish !== undefined) {
        // The bytes as they are (image/jpeg); the file and its properties stay the record.
        await this.d.ctx.publish(topic, jpeg, { qos: 0 }).catch((e: unknown) => this.d.log.warn({ topic, err: e instanceof Error ? e.message : String(e) }, 'snapshot not published'));
      }
      return info;
    });
  }

  /** Turns the relay on or off (remembered across reconnects). */
  async setForward(enabled: boolean): Promise<void> {
    this.d.memory.forwardEnabled = enabled;
    if (enabled) this.#startForward();
    else await this.#stopForward();
  }

  /** The relay's state for reads (undefined: not configured). */
  forwardView(): { state: ForwardState; restarts: number; enabled: boolean; target: string; pid: number } | undefined {
    const f = this.d.connection.forward;
    if (f === undefined) return undefined;
    const s = this.#forwarder;
    return {
      state: s?.state ?? 'stopped',
      restarts: this.d.memory.restarts + (s?.restarts ?? 0),
      enabled: this.d.memory.forwardEnabled ?? f.enabled,
      target: redact(f.target),
      pid: s?.pid ?? 0,
    };
  }

  /** Stops the schedule and the relay (waits for ffmpeg to exit); idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#snapshotTimer !== undefined) clearTimeout(this.#snapshotTimer);
    this.#snapshotAbort.abort();
    await this.#stopForward();
  }

  #schedule(every: number): void {
    this.#snapshotTimer = setTimeout(() => {
      if (this.#closed) return;
      this.takeSnapshot()
        .catch((e: unknown) => this.d.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'scheduled snapshot failed'))
        .finally(() => {
          if (!this.#closed) this.#schedule(every);
        });
    }, every);
  }

  #startForward(): void {
    const f = this.d.connection.forward;
    if (f === undefined || this.#closed) return;
    if (this.#forwarder !== undefined && this.#forwarder.state !== 'stopped') return;
    const src = this.streamUrl(f.profile);
    if ('error' in src) {
      this.d.log.warn({ code: src.error.code }, `forwarding not started: ${src.error.message}`);
      return;
    }
    const log = this.d.log.child({ relay: redact(f.target) });
    this.#forwarder = new Supervisor({
      command: 'ffmpeg',
      args: forwardArgs(src.url, f.target, f.transport),
      backoff: f.backoff,
      stableAfter: f.stableAfter,
      now: () => this.d.ctx.clock.monotonic(),
      onState: (state, info) => {
        if (state === 'backoff') log.warn({ restarts: info.restarts, exit: info.exit }, 'relay ffmpeg exited; restarting after backoff');
        else log.info({ state, restarts: info.restarts, ...(info.pid !== undefined ? { pid: info.pid } : {}) }, 'relay state');
      },
    });
    this.#forwarder.start();
  }

  async #stopForward(): Promise<void> {
    const s = this.#forwarder;
    if (s === undefined) return;
    await s.stop();
    this.d.memory.restarts += s.restarts;
    s.restarts = 0;
  }
}
