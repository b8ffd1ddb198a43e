/**
 * One camera link: the ONVIF connection (or, for a camera without ONVIF, its RTSP endpoint), the
 * camera's sub-devices, and their pull-point events.
 *
 * - Every read checks the camera first (ONVIF GetDeviceInformation, or a TCP connect to the RTSP
 *   port): no answer throws `Offline`/`Timeout`, which the gateway turns into a lost link and an
 *   offline device; it reconnects with backoff. Refused credentials are `Config` (detail
 *   `reason: Unauthorized`): the gateway backs off as for any failed connect; nothing here retries.
 * - Stream health comes from the last ffprobe (at most one per camera at a time, one per stream per
 *   `probe.interval`); a read waits for a probe only while none has finished yet.
 * - Writes are validated as a whole first: one bad value fails the write and nothing is sent.
 */
import net from 'node:net';
import { DriverError, Gate, toDriverError } from '../sdk/index.ts';
import type { ConnectOptions, DeviceRef, DriverContext, Point, PointWrite, ReadResult, Session, Subscription, SubscriptionSink, WriteResult } from '../sdk/index.ts';
import type { IpcAddress } from './address.ts';
import { isWritable } from './address.ts';
import type { IpcConnection } from './connection.ts';
import { CameraDevice } from './device.ts';
import type { DeviceMemory } from './device.ts';
import { resultOf, selectProfile } from './facts.ts';
import type { ReadView } from './facts.ts';
import { redact } from './ffprobe.ts';
import type { Prober } from './ffprobe.ts';
import { OnvifCamera } from './onvif.ts';
import type { ProfileInfo } from './onvif.ts';
import { parsePtzWrite } from './ptz.ts';
import type { PtzCommand } from './ptz.ts';
import { PullPointLoop } from './pullpoint.ts';

type IPoint = Point<IpcAddress>;
type Device = DeviceRef<IpcConnection>;

/** Resolves when a TCP connection to host:port opens; `Offline`/`Timeout` otherwise. */
export function tcpReachable(host: string, port: number, timeout: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      reject(new DriverError('Timeout', `${host}:${port} did not accept a connection within ${timeout} ms`));
    }, timeout);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve();
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      reject(new DriverError('Offline', `${host}:${port}: ${e.message}`, { detail: { errno: e.code ?? 'unknown' } }));
    });
  });
}

/** host and port of an rtsp:// URL (554 by default, RFC 2326 §3.2). */
export function rtspEndpoint(url: string): { host: string; port: number } {
  const u = new URL(url.replace(/^rtsps?:/i, 'http:'));
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port === '' ? 554 : Number(u.port) };
}

/** What a validated write does. */
type Action = { kind: 'ptz'; command: PtzCommand; text: string } | { kind: 'snapshot' } | { kind: 'forward'; enabled: boolean } | { kind: 'none' };

export class IpcSession implements Session<IpcConnection, IpcAddress> {
  #closed = false;
  readonly #devices = new Map<string, CameraDevice>();
  readonly #probers = new Map<string, Prober>();
  readonly #probeGate = new Gate(1);
  /** Event sinks by device, and the one pull-point loop of this camera. */
  readonly #eventSinks = new Map<string, { sink: SubscriptionSink; points: IPoint[] }>();
  #pull: PullPointLoop | undefined;

  private constructor(
    private readonly connection: IpcConnection,
    readonly camera: OnvifCamera | undefined,
    private readonly ctx: DriverContext,
    private readonly memory: (device: string) => DeviceMemory,
    private readonly onClosed: (() => void) | undefined,
  ) {}

  /** Connects to the camera; rejects with `Offline`, `Timeout` or `Config` (refused credentials). */
  static async open(
    c: IpcConnection,
    options: ConnectOptions,
    ctx: DriverContext,
    memory: (device: string) => DeviceMemory,
    onClosed?: () => void,
  ): Promise<IpcSession> {
    if (options.signal.aborted) throw new DriverError('Offline', 'aborted');
    if (!c.onvif) {
      const { host, port } = rtspEndpoint(c.streamAddress!);
      await tcpReachable(host, port, c.timeout);
      return new IpcSession(c, undefined, ctx, memory, onClosed);
    }
    const camera = await OnvifCamera.connect({
      host: c.ip!,
      port: c.port,
      path: c.path,
      timeout: c.timeout,
      ...(c.username !== undefined ? { username: c.username, password: c.password ?? '' } : {}),
    });
    if (options.signal.aborted) {
      camera.close();
      throw new DriverError('Offline', 'aborted');
    }
    ctx.log.info({ camera: `${c.ip}:${c.port}`, model: camera.info.model, profiles: camera.profiles.map((p) => p.token) }, 'camera connected');
    return new IpcSession(c, camera, ctx, memory, onClosed);
  }

  /** The device's runtime (created on first use: starts its snapshot schedule and relay). */
  #device(device: Device): CameraDevice {
    if (this.#closed) throw new DriverError('Offline', 'the camera session is closed');
    let d = this.#devices.get(device.name);
    if (d === undefined) {
      d = new CameraDevice({
        name: device.name,
        connection: device.connection,
        camera: this.camera,
        memory: this.memory(device.name),
        ctx: this.ctx,
        log: this.ctx.log.child({ device: device.name }),
        probeGate: this.#probeGate,
        probers: this.#probers,
      });
      this.#devices.set(device.name, d);
      if (device.connection.snapshot?.publishTopic !== undefined && this.ctx.publish === undefined) {
        this.ctx.log.warn({ device: device.name }, 'snapshot.publishTopic is ignored: this gateway gives drivers no publish (SDK < 1.1); the snapshot is a file (snapshot.path)');
      }
      d.start();
    }
    return d;
  }

  /** The live check of a read: one cheap request the camera must answer. */
  async #alive(): Promise<void> {
    if (this.camera !== undefined) await this.camera.refreshInfo();
    else {
      const { host, port } = rtspEndpoint(this.connection.streamAddress!);
      await tcpReachable(host, port, this.connection.timeout);
    }
  }

  #ptzProfile(c: IpcConnection): ProfileInfo | undefined {
    const profiles = this.camera?.profiles ?? [];
    return c.ptzProfile !== undefined ? selectProfile(profiles, c.ptzProfile) : profiles.find((p) => p.ptz);
  }

  async read(device: Device, points: readonly IPoint[], signal: AbortSignal): Promise<ReadResult[]> {
    const d = this.#device(device);
    try {
      await this.#alive();
    } catch (e) {
      const err = toDriverError(e, 'Offline');
      // A refused login after connect is a configuration problem, not a dead link.
      throw err.code === 'Config' ? err : new DriverError(err.code === 'Timeout' ? 'Timeout' : 'Offline', err.message, { cause: e });
    }
    // Stream health: start due probes; wait only for streams never probed yet.
    const waits: Promise<void>[] = [];
    for (const p of points) {
      if (p.address.kind !== 'stream' || p.address.field === 'uri') continue;
      const s = d.streamUrl(p.address.profile);
      if ('error' in s) continue;
      const prober = d.prober(s.url);
      const run = prober.refresh();
      if (prober.state.kind === 'none') waits.push(run);
    }
    if (waits.length > 0) await abortable(Promise.all(waits), signal);
    let ptz: ReadView['ptz'];
    const ptzProfile = this.#ptzProfile(device.connection);
    if (ptzProfile !== undefined && points.some((p) => p.address.kind === 'ptz' && ['pan', 'tilt', 'zoom', 'moving'].includes(p.address.field))) {
      try {
        ptz = { ok: true, ...(await this.camera!.ptzStatus(ptzProfile.token)) };
      } catch (e) {
        const err = toDriverError(e);
        ptz = { ok: false, error: { code: err.code, message: err.message } };
      }
    }
    const mem = this.memory(device.name);
    const view: ReadView = {
      onvif: this.camera !== undefined,
      info: this.camera?.info,
      profiles: this.camera?.profiles ?? [],
      stream: (sel) => {
        const s = d.streamUrl(sel);
        return 'error' in s ? s : { url: redact(s.url), state: d.prober(s.url).state };
      },
      snapshot: { last: d.store.last, count: d.store.count },
      ptz,
      ptzLast: mem.ptzLast,
      forward: d.forwardView(),
      events: device.connection.events ? mem.events : undefined,
      now: this.ctx.clock.now(),
    };
    return points.map((p) => resultOf(p, view));
  }

  /** Validates every write first; one bad value fails them all (BadValue) and nothing is sent. */
  async write(device: Device, writes: readonly PointWrite<IpcAddress>[], signal: AbortSignal): Promise<WriteResult[]> {
    const d = this.#device(device);
    const actions: Action[] = [];
    const problems = new Map<number, { code: 'BadValue' | 'Unsupported'; message: string }>();
    writes.forEach((w, i) => {
      const r = this.#validate(device, w);
      if ('problem' in r) problems.set(i, r.problem);
      else actions.push(r.action);
    });
    if (problems.size > 0) {
      return writes.map((w, i) => {
        const p = problems.get(i);
        return { id: w.point.id, ok: false, error: p ?? { code: 'BadValue', message: `${w.point.name}: not sent, another value of this write was rejected` } };
      });
    }
    const out: WriteResult[] = [];
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i]!;
      const a = actions[i]!;
      if (signal.aborted) {
        out.push({ id: w.point.id, ok: false, error: { code: 'Timeout', message: 'the write was cancelled' } });
        continue;
      }
      try {
        await this.#perform(device, d, a);
        out.push({ id: w.point.id, ok: true });
      } catch (e) {
        const err = toDriverError(e);
        if (err.code === 'Offline') throw err;
        out.push({ id: w.point.id, ok: false, error: { code: err.code, message: `${w.point.name}: ${err.message}`, ...(err.detail ? { detail: err.detail } : {}) } });
      }
    }
    return out;
  }

  #validate(device: Device, w: PointWrite<IpcAddress>): { action: Action } | { problem: { code: 'BadValue' | 'Unsupported'; message: string } } {
    const a = w.point.address;
    const name = `${w.point.name} (${a.text})`;
    if (!isWritable(a)) return { problem: { code: 'Unsupported', message: `${name} is read-only` } };
    if (a.kind === 'ptz') {
      if (this.camera === undefined) return { problem: { code: 'Unsupported', message: `${name}: PTZ needs the ONVIF service (this camera has streamAddress only)` } };
      if (this.#ptzProfile(device.connection) === undefined) return { problem: { code: 'Unsupported', message: `${name}: the camera has no profile with a PTZ configuration` } };
      const r = parsePtzWrite(a.field as 'move' | 'stop' | 'preset' | 'home', w.value);
      if (!r.ok) return { problem: { code: 'BadValue', message: `${name}: ${r.error}` } };
      return { action: { kind: 'ptz', command: r.command, text: typeof w.value === 'string' ? w.value : String(w.value) } };
    }
    if (typeof w.value !== 'boolean') return { problem: { code: 'BadValue', message: `${name} takes true or false, not ${JSON.stringify(String(w.value))}` } };
    if (a.kind === 'forward') {
      if (device.connection.forward === undefined) return { problem: { code: 'Unsupported', message: `${name}: forwarding is not configured (accessConfig.ipc.forward)` } };
      return { action: { kind: 'forward', enabled: w.value } };
    }
    return { action: w.value ? { kind: 'snapshot' } : { kind: 'none' } };
  }

  async #perform(device: Device, d: CameraDevice, a: Action): Promise<void> {
    switch (a.kind) {
      case 'none':
        return;
      case 'snapshot':
        await d.takeSnapshot();
        return;
      case 'forward':
        await d.setForward(a.enabled);
        return;
      case 'ptz': {
        await this.camera!.ptz(this.#ptzProfile(device.connection)!.token, a.command);
        const mem = this.memory(device.name);
        if (a.command.op === 'move') mem.ptzLast.move = a.text;
        if (a.command.op === 'preset') mem.ptzLast.preset = a.command.token;
        return;
      }
    }
  }

  /**
   * Starts the device's snapshot schedule and relay, and with `events: true` delivers the
   * camera's motion and tampering notifications to `sink.event` (and `event.*` points to
   * `sink.values`). Called again after every reconnect.
   */
  async subscribe(device: Device, points: readonly IPoint[], sink: SubscriptionSink): Promise<Subscription> {
    this.#device(device);
    if (!device.connection.events || this.camera === undefined) return { close: async () => undefined };
    this.#eventSinks.set(device.name, { sink, points: points.filter((p) => p.address.kind === 'event') });
    if (this.#pull === undefined) {
      const camera = this.camera;
      this.#pull = new PullPointLoop(camera, {
        now: () => this.ctx.clock.now(),
        onEvents: (events, ts) => this.#deliver(events, ts),
        onError: (e) => this.ctx.log.warn({ code: e.code, err: e.message }, 'ONVIF event subscription failed; retrying'),
      });
      this.#pull.start();
    }
    return {
      close: async () => {
        this.#eventSinks.delete(device.name);
        if (this.#eventSinks.size === 0 && this.#pull !== undefined) {
          const p = this.#pull;
          this.#pull = undefined;
          await p.stop();
        }
      },
    };
  }

  #deliver(events: Record<string, unknown>, ts: number | undefined): void {
    if (this.#closed) return;
    for (const [name, { sink, points }] of this.#eventSinks) {
      const mem = this.memory(name);
      const changed: ReadResult[] = [];
      for (const [id, payload] of Object.entries(events)) {
        const state = (payload as { state?: unknown }).state;
        if ((id === 'motion' || id === 'tamper') && typeof state === 'boolean') {
          mem.events[id] = state;
          for (const p of points) if (p.address.kind === 'event' && p.address.field === id) changed.push({ id: p.id, quality: 'good', value: state, ...(ts !== undefined ? { ts } : {}) });
        }
      }
      if (sink.event !== undefined) sink.event(name, events, ts);
      else this.ctx.log.debug({ device: name }, 'event dropped: the gateway predates SDK 1.1 (no sink.event)');
      if (changed.length > 0) sink.values(name, changed);
    }
  }

  /** Stops events, schedules, probes and relays (waiting for ffmpeg to exit); idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.camera?.close();
    const pull = this.#pull;
    this.#pull = undefined;
    for (const p of this.#probers.values()) p.close();
    await Promise.allSettled([pull?.stop(), ...[...this.#devices.values()].map((d) => d.close())]);
    this.#devices.clear();
    this.#eventSinks.clear();
    this.onClosed?.();
  }
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(undefined);
      },
    );
  });
}
