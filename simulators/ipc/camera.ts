/**
 * One simulated ONVIF IP camera on loopback, for the `ipc` driver's tests and `fieldgate simulate`:
 * device, media (Profile S), PTZ and event (pull-point) services over SOAP 1.2 with WS-Security
 * UsernameToken or HTTP Digest authentication, JPEG snapshots, an optional RTSP stream
 * (rtsp-server-perl fed by ffmpeg) and an optional WS-Discovery responder.
 *
 * Faults for tests: pause()/resume() (camera gone and back on the same ports),
 * stopStream()/startStream() (stream health), raise() (motion/tamper events).
 */
import { randomUUID } from 'node:crypto';
import { HttpAuth } from './auth.ts';
import type { Credentials } from './auth.ts';
import { PATHS } from './context.ts';
import type { CameraContext, DeviceInfo, Handler, MediaProfile } from './context.ts';
import { deviceService } from './device-service.ts';
import { startDiscovery } from './discovery.ts';
import type { DiscoveryResponder } from './discovery.ts';
import { EventHub } from './event-hub.ts';
import { eventsService } from './events-service.ts';
import { renderJpegs } from './frames.ts';
import { mediaService } from './media-service.ts';
import { freeTcpPort, freeUdpBlock } from './ports.ts';
import { PtzHead } from './ptz-state.ts';
import type { PtzSnapshot } from './ptz-state.ts';
import { ptzService } from './ptz-service.ts';
import { RtspStream } from './rtsp.ts';
import { createCameraHttp } from './server.ts';

export interface CameraSimOptions {
  /** Default '127.0.0.1'; only 127.0.0.0/8 is accepted. */
  host?: string;
  /** HTTP (ONVIF) port; 0/undefined = a free one. */
  port?: number;
  /** Both unset = no authentication. */
  username?: string;
  password?: string;
  info?: Partial<DeviceInfo>;
  profiles?: { token: string; name: string; width: number; height: number; fps: number; bitrate: number; encoding?: 'H264' | 'H265' | 'JPEG' }[];
  /** Start rtsp-server-perl + ffmpeg (default false). */
  rtsp?: boolean;
  /** RTSP client port when `rtsp` (0/undefined = a free one). */
  rtspPort?: number;
  /** Start the WS-Discovery responder on this UDP port (0 = free); undefined = none. */
  discoveryPort?: number;
  /** Also join 239.255.255.250:3702 on the loopback interface (default false; never in tests). */
  multicast?: boolean;
  /** Default true. */
  ptz?: boolean;
  /** Snapshot frames rendered per profile at start (default 10). */
  snapshotFrames?: number;
}

export interface CameraSimulator {
  readonly port: number;
  /** `http://127.0.0.1:<port>/onvif/device_service`. */
  readonly deviceServiceUrl: string;
  /** RTSP URL by profile token (empty when `rtsp` is false). */
  readonly rtspUrls: Readonly<Record<string, string>>;
  readonly discoveryPort: number | undefined;
  ptzState(): PtzSnapshot;
  /** Sets the motion or tamper state and queues the event for every pull-point subscription. */
  raise(kind: 'motion' | 'tamper', state: boolean): void;
  snapshotsServed(): number;
  /** Pids of the RTSP server and encoder processes (and their watchdogs) now running. */
  childPids(): number[];
  stopStream(): Promise<void>;
  /** Resolves once every profile path answers RTSP DESCRIBE with 200. */
  startStream(): Promise<void>;
  /** Camera gone: HTTP listener, stream and discovery closed, connections dropped. */
  pause(): Promise<void>;
  /** Back on the same ports (stream restarted if it was running). */
  resume(): Promise<void>;
  /** Stops everything; no child process is left. Safe to call twice. */
  stop(): Promise<void>;
}

export const DEFAULT_PROFILES: readonly MediaProfile[] = [
  { token: 'main', name: 'main', width: 1280, height: 720, fps: 25, bitrate: 4096, encoding: 'H264' },
  { token: 'sub', name: 'sub', width: 320, height: 240, fps: 10, bitrate: 512, encoding: 'H264' },
];

const DEFAULT_INFO: DeviceInfo = { manufacturer: 'Fieldgate', model: 'SIM-IPC-1', firmwareVersion: '1.0.0', serialNumber: 'FG-IPC-0001', hardwareId: 'fg-ipc-hw1' };

/** 127.0.0.0/8 (and `localhost`, mapped to 127.0.0.1). */
export function loopbackHost(host: string): string | undefined {
  if (host === 'localhost') return '127.0.0.1';
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255) ? host : undefined;
}

function checkProfiles(list: readonly MediaProfile[]): void {
  if (list.length === 0) throw new Error('a camera needs at least one profile');
  const seen = new Set<string>();
  for (const p of list) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(p.token)) throw new Error(`profile token "${p.token}": use 1-64 of A-Z a-z 0-9 _ -`);
    if (seen.has(p.token)) throw new Error(`duplicate profile token "${p.token}"`);
    seen.add(p.token);
    for (const [k, v] of [['width', p.width], ['height', p.height], ['fps', p.fps], ['bitrate', p.bitrate]] as const) {
      if (!Number.isFinite(v) || v <= 0) throw new Error(`profile ${p.token}: ${k} must be > 0`);
    }
  }
}

/** Encoded size for the stream: the smallest profile, scaled down to fit 640x480, even sides. */
function streamSize(list: readonly MediaProfile[]): { width: number; height: number; fps: number } {
  const p = [...list].sort((a, b) => a.width * a.height - b.width * b.height)[0]!;
  const k = Math.min(1, 640 / p.width, 480 / p.height);
  const even = (v: number): number => Math.max(16, 2 * Math.round((v * k) / 2));
  return { width: even(p.width), height: even(p.height), fps: Math.min(15, Math.max(1, Math.round(p.fps))) };
}

const listen = (server: import('node:http').Server, port: number, host: string): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

/** Starts one simulated camera. */
export async function startCameraSimulator(opts: CameraSimOptions = {}): Promise<CameraSimulator> {
  const host = loopbackHost(opts.host ?? '127.0.0.1');
  if (host === undefined) throw new Error(`camera simulator host must be loopback (127.0.0.0/8), got "${opts.host}"`);
  const profiles: MediaProfile[] = (opts.profiles ?? DEFAULT_PROFILES).map((p) => ({ ...p, encoding: p.encoding ?? 'H264' }));
  checkProfiles(profiles);
  const info: DeviceInfo = { ...DEFAULT_INFO, ...opts.info };
  const creds: Credentials | undefined = opts.username === undefined && opts.password === undefined ? undefined : { username: opts.username ?? '', password: opts.password ?? '' };

  // Snapshot frames per distinct size, rendered once.
  const frameCount = Math.max(1, Math.min(30, opts.snapshotFrames ?? 10));
  const sizes = [...new Set(profiles.map((p) => `${p.width}x${p.height}`))];
  const rendered = new Map<string, Buffer[]>();
  // Rendered while the HTTP server and the stream start; awaited before returning.
  const framesReady = Promise.all(sizes.map(async (s) => {
    const [w, h] = s.split('x').map(Number) as [number, number];
    rendered.set(s, await renderJpegs(w, h, frameCount));
  }));
  framesReady.catch(() => undefined);
  let served = 0;
  const next = new Map<string, number>();

  const events = new EventHub();
  const ptz = opts.ptz === false ? undefined : new PtzHead();
  const endpoint = `urn:uuid:${randomUUID()}`;
  const scopes = [
    'onvif://www.onvif.org/Profile/Streaming',
    'onvif://www.onvif.org/type/video_encoder',
    ...(ptz !== undefined ? ['onvif://www.onvif.org/type/ptz'] : []),
    `onvif://www.onvif.org/hardware/${encodeURIComponent(info.model)}`,
    `onvif://www.onvif.org/name/${encodeURIComponent(`${info.manufacturer} ${info.model}`)}`,
    'onvif://www.onvif.org/location/fieldgate',
  ];
  let port = opts.port ?? 0;
  const rtspPort = opts.rtspPort !== undefined && opts.rtspPort !== 0 ? opts.rtspPort : await freeTcpPort(host);
  const ctx: CameraContext = {
    info, profiles, ptz, events, endpoint, scopes,
    baseUrl: () => `http://${host}:${port}`,
    streamUri: (token) => `rtsp://${host}:${rtspPort}/${token}`,
    now: Date.now,
  };
  const services = new Map<string, Handler>([...deviceService, ...mediaService, ...eventsService, ...(ptz !== undefined ? ptzService : [])]);
  const http = createCameraHttp({
    ctx, creds, auth: new HttpAuth(`fieldgate-${info.serialNumber}`), services,
    snapshot: (token) => {
      const p = profiles.find((q) => q.token === token);
      const frames = p === undefined ? undefined : rendered.get(`${p.width}x${p.height}`);
      if (p === undefined || frames === undefined) return undefined;
      const i = next.get(token) ?? 0;
      next.set(token, (i + 1) % frames.length);
      served++;
      return frames[i];
    },
  });

  let stream: RtspStream | undefined;
  let discovery: DiscoveryResponder | undefined;
  let discoveryPort = opts.discoveryPort;
  const startDisc = async (): Promise<void> => {
    if (discoveryPort === undefined) return;
    discovery = await startDiscovery({ host, port: discoveryPort, multicast: opts.multicast === true, info: () => ({ endpoint, scopes, xaddrs: [ctx.baseUrl() + PATHS.device] }) });
    discoveryPort = discovery.port;
  };
  let state: 'running' | 'paused' | 'stopped' = 'running';
  let streamWanted = opts.rtsp === true;

  try {
    await listen(http.server, port, host);
    const addr = http.server.address();
    port = typeof addr === 'object' && addr !== null ? addr.port : port;
    await startDisc();
    if (opts.rtsp === true) {
      const size = streamSize(profiles);
      stream = new RtspStream({ host, clientPort: rtspPort, sourcePort: await freeTcpPort(host), rtpBase: await freeUdpBlock(host, 64), paths: profiles.map((p) => p.token), ...size });
      await stream.start();
    }
    await framesReady;
  } catch (e) {
    http.abortAll();
    http.server.close();
    await discovery?.close();
    await stream?.stop();
    throw e;
  }

  const rtspUrls: Record<string, string> = stream === undefined ? {} : Object.fromEntries(profiles.map((p) => [p.token, stream!.url(p.token)]));
  const closeHttp = (): Promise<void> =>
    new Promise((resolve) => {
      if (!http.server.listening) return resolve();
      http.server.close(() => resolve());
      events.wakeAll();
      http.abortAll();
    });

  const sim: CameraSimulator = {
    get port() {
      return port;
    },
    deviceServiceUrl: `http://${host}:${port}${PATHS.device}`,
    rtspUrls,
    get discoveryPort() {
      return discoveryPort;
    },
    ptzState: () => ptz?.snapshot() ?? { pan: 0, tilt: 0, zoom: 0, moving: false, lastCommand: undefined, commands: {} },
    raise: (kind, value) => events.raise(kind, value),
    snapshotsServed: () => served,
    childPids: () => stream?.pids() ?? [],
    async stopStream() {
      streamWanted = false;
      await stream?.stop();
    },
    async startStream() {
      if (stream === undefined) throw new Error('this camera was started without rtsp: true');
      if (state !== 'running') throw new Error(`camera is ${state}`);
      streamWanted = true;
      await stream.start();
    },
    async pause() {
      if (state !== 'running') return;
      state = 'paused';
      await Promise.all([closeHttp(), discovery?.close(), stream?.stop()]);
      discovery = undefined;
    },
    async resume() {
      if (state !== 'paused') return;
      await listen(http.server, port, host);
      await startDisc();
      state = 'running';
      if (streamWanted) await stream?.start();
    },
    async stop() {
      if (state === 'stopped') return;
      state = 'stopped';
      await Promise.all([closeHttp(), discovery?.close(), stream?.stop()]);
      discovery = undefined;
    },
  };
  return sim;
}
