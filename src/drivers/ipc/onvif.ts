/**
 * The ONVIF side of a camera, on agsh's `onvif` 0.8.3 (loaded on first connect): connect (device
 * service, GetServices/GetCapabilities, profiles), device information, stream and snapshot URIs,
 * PTZ, and the pull-point calls. Every call has a deadline and fails with a coded DriverError.
 *
 * Authentication is the package's: WS-Security UsernameToken digest in the SOAP header, and HTTP
 * Digest when the camera answers 401. One `http.Agent` per camera carries every request, so that
 * `close()` can end them all at once (a PullMessages long poll included).
 */
import http from 'node:http';
import type { Cam as CamType, CamOptions, CamProfile, PTZMoveOptions } from 'onvif';
import { DriverError } from '../sdk/index.ts';
import type { PtzCommand } from './ptz.ts';

type OnvifModule = { Cam: typeof CamType };
let loaded: Promise<OnvifModule> | undefined;

/** The onvif package, loaded once (CommonJS: its exports may sit on `default`). */
export function loadOnvif(): Promise<OnvifModule> {
  loaded ??= import('onvif').then((m) => ((m as { default?: OnvifModule }).default ?? (m as unknown as OnvifModule)));
  return loaded;
}

/** One media profile as the driver reports it. */
export interface ProfileInfo {
  readonly token: string;
  readonly name: string;
  readonly encoding: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** kbit/s (ONVIF BitrateLimit). */
  readonly bitrate: number;
  readonly ptz: boolean;
  streamUri?: string;
  snapshotUri?: string;
}

/** GetDeviceInformation in the driver's names. */
export interface DeviceInfo {
  readonly manufacturer: string;
  readonly model: string;
  readonly firmware: string;
  readonly serial: string;
  readonly hardwareId: string;
}

type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : 0);
const str = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'object' ? '' : String(v));

/** A profile from the package's (linerased) GetProfiles result; Media1 and Media2 shapes. */
export function normalizeProfile(p: CamProfile): ProfileInfo {
  const enc = o(p.videoEncoderConfiguration);
  const res = o(enc.resolution);
  const rate = o(enc.rateControl);
  return {
    token: str(o(p.$).token ?? p.token),
    name: str(p.name),
    encoding: str(enc.encoding),
    width: num(res.width),
    height: num(res.height),
    fps: num(rate.frameRateLimit),
    bitrate: num(rate.bitrateLimit),
    ptz: p.PTZConfiguration !== undefined,
  };
}

/** GetDeviceInformation's fields (the package linerases "123" into 123: give text back). */
export function normalizeInfo(d: unknown): DeviceInfo {
  const x = o(d);
  return {
    manufacturer: str(x.manufacturer),
    model: str(x.model),
    firmware: str(x.firmwareVersion),
    serial: str(x.serialNumber),
    hardwareId: str(x.hardwareId),
  };
}

const AUTH = /Digest authentication failed|not ?authori[sz]ed|NotAuthorized|Unauthorized|authority failure|401/i;

/** Maps an onvif/http failure to a DriverError; `what` names the call. */
export function toOnvifError(e: unknown, what: string): DriverError {
  if (e instanceof DriverError) return e;
  const err = e as { message?: unknown; code?: unknown };
  const message = typeof err?.message === 'string' ? err.message : String(e);
  const code = typeof err?.code === 'string' ? err.code : undefined;
  if (AUTH.test(message)) {
    return new DriverError('Config', `${what}: the camera refused the credentials (${message}); check username/password`, { cause: e, detail: { reason: 'Unauthorized' } });
  }
  if (message === 'Network timeout' || code === 'ETIMEDOUT') return new DriverError('Timeout', `${what}: no answer (${message})`, { cause: e });
  if (code !== undefined && /^E[A-Z]+$/.test(code)) return new DriverError('Offline', `${what}: ${message}`, { cause: e, detail: { errno: code } });
  if (/socket hang up|aborted|destroyed/i.test(message)) return new DriverError('Offline', `${what}: ${message}`, { cause: e });
  if (/SOAP Fault/i.test(message)) return new DriverError('Exception', `${what}: ${message}`, { cause: e });
  return new DriverError('Protocol', `${what}: ${message}`, { cause: e });
}

/** Calls a callback-style onvif method with a deadline. */
function call<T>(what: string, ms: number, fn: (cb: (err: Error | null, data?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new DriverError('Timeout', `${what}: no answer within ${ms} ms`));
    }, ms);
    try {
      fn((err, data) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(toOnvifError(err, what));
        else resolve(data as T);
      });
    } catch (e) {
      done = true;
      clearTimeout(timer);
      reject(toOnvifError(e, what));
    }
  });
}

export interface OnvifOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly username?: string;
  readonly password?: string;
  readonly timeout: number;
}

/** A connected ONVIF camera. */
export class OnvifCamera {
  #closed = false;
  /** The pull-point subscription's own agent: {@link abortEvents} ends its long poll alone. */
  #eventsAgent = new http.Agent({ keepAlive: false });

  private constructor(
    private readonly cam: CamType,
    private readonly agent: http.Agent,
    private readonly timeout: number,
    readonly profiles: ProfileInfo[],
    public info: DeviceInfo,
  ) {}

  /** Connects, reads device information, profiles and their stream and snapshot URIs. */
  static async connect(opts: OnvifOptions): Promise<OnvifCamera> {
    const { Cam } = await loadOnvif();
    const agent = new http.Agent({ keepAlive: false });
    const camOptions: CamOptions = {
      hostname: opts.host,
      port: opts.port,
      path: opts.path,
      timeout: opts.timeout,
      autoconnect: false,
      // Cameras behind NAT advertise service addresses the gateway cannot reach.
      preserveAddress: true,
      agent,
      ...(opts.username !== undefined ? { username: opts.username, password: opts.password ?? '' } : {}),
    };
    const cam = new Cam(camOptions);
    // The package emits 'warning' for odd replies; without a listener nothing breaks, keep it quiet.
    cam.on('warning', () => undefined);
    const where = `ONVIF ${opts.host}:${opts.port}`;
    try {
      await call<void>(`${where}: connect`, opts.timeout * 3, (cb) => cam.connect((err) => cb(err ?? null)));
      const info = normalizeInfo(await call(`${where}: GetDeviceInformation`, opts.timeout, (cb) => cam.getDeviceInformation(cb)));
      const profiles = (cam.profiles ?? []).map(normalizeProfile);
      const camera = new OnvifCamera(cam, agent, opts.timeout, profiles, info);
      for (const p of profiles) {
        p.streamUri = await camera.streamUri(p.token);
        p.snapshotUri = await camera.snapshotUri(p.token).catch(() => undefined);
      }
      return camera;
    } catch (e) {
      agent.destroy();
      throw toOnvifError(e, where);
    }
  }

  /** The RTSP URI of a profile (GetStreamUri, RTP-Unicast over RTSP). */
  async streamUri(token: string): Promise<string> {
    const r = await call<{ uri?: unknown }>('GetStreamUri', this.timeout, (cb) => this.cam.getStreamUri({ protocol: 'RTSP', profileToken: token }, cb));
    return str(o(r).uri);
  }

  /** The snapshot URI of a profile (GetSnapshotUri); rejects when the camera has none. */
  async snapshotUri(token: string): Promise<string> {
    const r = await call<{ uri?: unknown }>('GetSnapshotUri', this.timeout, (cb) => this.cam.getSnapshotUri({ profileToken: token }, cb));
    const uri = str(o(r).uri);
    if (uri === '') throw new DriverError('Unsupported', 'the camera gave no snapshot URI');
    return uri;
  }

  /** GetDeviceInformation again: the liveness check of every poll. */
  async refreshInfo(): Promise<DeviceInfo> {
    this.info = normalizeInfo(await call('GetDeviceInformation', this.timeout, (cb) => this.cam.getDeviceInformation(cb)));
    return this.info;
  }

  /** PTZ GetStatus: position (generic space) and whether it moves. */
  async ptzStatus(token: string): Promise<{ pan: number; tilt: number; zoom: number; moving: boolean }> {
    const s = o(await call('PTZ GetStatus', this.timeout, (cb) => this.cam.getStatus({ profileToken: token }, cb)));
    const pos = o(s.position);
    const move = o(s.moveStatus);
    const moving = [move.panTilt, move.zoom, s.moveStatus].some((v) => typeof v === 'string' && /MOVING/i.test(v));
    return { pan: num(pos.x), tilt: num(pos.y), zoom: num(pos.zoom), moving };
  }

  /** Sends one PTZ command on profile `token`. */
  async ptz(token: string, c: PtzCommand): Promise<void> {
    const what = `PTZ ${c.op}`;
    switch (c.op) {
      case 'none':
        return;
      case 'stop':
        await call(what, this.timeout, (cb) => this.cam.stop({ profileToken: token, panTilt: true, zoom: true }, cb));
        return;
      case 'home':
        await call(what, this.timeout, (cb) => this.cam.gotoHomePosition({ profileToken: token }, cb));
        return;
      case 'preset':
        await call(what, this.timeout, (cb) => this.cam.gotoPreset({ profileToken: token, preset: c.token }, cb));
        return;
      case 'move': {
        // The package sends PanTilt only with both x and y; a missing axis is 0 (no movement
        // for relative/continuous). For absolute moves the missing axes keep their position.
        let { pan, tilt, zoom } = c;
        if (c.mode === 'absolute' && (pan === undefined || tilt === undefined || zoom === undefined)) {
          const now = await this.ptzStatus(token);
          pan ??= now.pan;
          tilt ??= now.tilt;
          zoom ??= now.zoom;
        }
        const opts: PTZMoveOptions = {
          profileToken: token,
          x: pan ?? 0,
          y: tilt ?? 0,
          zoom: zoom ?? 0,
          ...(c.pan === undefined && c.tilt === undefined && c.mode !== 'absolute' ? { onlySendZoom: true } : {}),
          ...(c.zoom === undefined && c.mode !== 'absolute' ? { onlySendPanTilt: true } : {}),
          ...(c.timeout !== undefined ? { timeout: c.timeout } : {}),
        };
        const fn = c.mode === 'continuous' ? this.cam.continuousMove : c.mode === 'absolute' ? this.cam.absoluteMove : this.cam.relativeMove;
        await call(`PTZ ${c.mode} move`, this.timeout, (cb) => fn.call(this.cam, opts, cb));
        return;
      }
    }
  }

  /** CreatePullPointSubscription; the subscription's requests go through their own agent. */
  async createPullPoint(): Promise<void> {
    await call('CreatePullPointSubscription', this.timeout, (cb) => this.cam.createPullPointSubscription(cb));
    // The package sends pull/renew/unsubscribe with the parsed subscription URL as the request
    // options, which carry no agent: add ours so that a stop ends a long poll at once.
    const address = o(o(o(this.cam.events).subscription).subscriptionReference).address;
    if (typeof address === 'object' && address !== null) (address as Obj).agent = this.#eventsAgent;
  }

  /** Ends the subscription's request in flight (a PullMessages long poll) without touching the rest. */
  abortEvents(): void {
    const old = this.#eventsAgent;
    this.#eventsAgent = new http.Agent({ keepAlive: false });
    const address = o(o(o(this.cam.events).subscription).subscriptionReference).address;
    if (typeof address === 'object' && address !== null) (address as Obj).agent = this.#eventsAgent;
    old.destroy();
  }

  /** PullMessages (the camera holds it up to its timeout); resolves with the raw messages. */
  async pullMessages(limit: number): Promise<unknown[]> {
    // The package asks for a PT1M long poll and allows 80 s for the answer.
    const r = o(await call('PullMessages', 90_000, (cb) => this.cam.pullMessages({ messageLimit: limit }, cb)));
    const m = r.notificationMessage;
    return m === undefined ? [] : Array.isArray(m) ? m : [m];
  }

  /** Renew (PT2M as the package sends it). */
  async renew(): Promise<void> {
    await call('Renew', this.timeout, (cb) => this.cam.renew({}, cb));
  }

  /** Unsubscribe, best effort. */
  async unsubscribe(): Promise<void> {
    await call('Unsubscribe', Math.min(this.timeout, 2000), (cb) => this.cam.unsubscribe(cb, true)).catch(() => undefined);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Ends every request in flight (sockets destroyed); idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.cam.removeAllListeners();
    this.agent.destroy();
    this.#eventsAgent.destroy();
  }
}
