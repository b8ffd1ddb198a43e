/**
 * `accessConfig.ipc`: Baetyl's camera keys (`IpcDeviceConfig` in baetyl-go dmcontext/config.go:
 * name, ip, port (80), username, password, streamAddress, agentEnable, remoteAddress, serviceName,
 * resultTopic, system; and the `IpcServiceConfig` keys under `service`: fps, imageFormat (jpg),
 * scale, cachePath, cacheTime in minutes 3..180 (default 3)…), plus fieldgate's optional keys.
 * Baetyl's key names are never renamed; keys fieldgate does not act on are accepted and ignored.
 */
import { createHash } from 'node:crypto';
import { baseConnectionShape, duration, z } from '../sdk/index.ts';
import { redact } from './ffprobe.ts';

const rtspUrl = z.string().regex(/^rtsps?:\/\/[^\s]+$/, 'an RTSP URL, e.g. rtsp://127.0.0.1:8554/main');
const relayTarget = z.string().regex(/^(rtsps?|rtmps?):\/\/[^\s]+$/, 'a relay target, e.g. rtsp://127.0.0.1:8554/relay or rtmp://host/live/cam1');

/** Baetyl's service section (`IpcServiceConfig`); only the keys marked "used" change anything. */
const serviceSchema = z.looseObject({
  name: z.string().optional(),
  /** Used: scheduled snapshots per second when `snapshot.every` is absent (0: none; at most 1/s). */
  fps: z.number().nonnegative().optional(),
  /** Used: the snapshot file format; only JPEG is written. */
  imageFormat: z.enum(['jpg', 'jpeg', 'JPG', 'JPEG']).default('jpg'),
  scale: z.looseObject({ enable: z.boolean().optional(), height: z.number().optional(), width: z.number().optional() }).optional(),
  /** Used: snapshot folder; relative paths are under the driver's data directory. */
  cachePath: z.string().min(1).optional(),
  /** Used: minutes a snapshot file is kept (Baetyl: 3..180, default 3). */
  cacheTime: z.number().int().min(3).max(180).default(3),
  address: z.string().optional(),
  cache: z.boolean().optional(),
  upload: z.unknown().optional(),
  request: z.unknown().optional(),
  body: z.unknown().optional(),
});

const snapshotSchema = z.strictObject({
  /** Take one on this schedule (absent: from service.fps, else only on demand). */
  every: duration().optional(),
  /** Profile (index, token or name) whose snapshot URI / stream is used; default the first. */
  profile: z.union([z.string().min(1), z.number().int().nonnegative()]).optional(),
  /** `onvif`: the camera's snapshot URI; `stream`: one frame grabbed with ffmpeg; `auto`: onvif when there is a URI. */
  source: z.enum(['auto', 'onvif', 'stream']).default('auto'),
  /** Files kept (the newest), besides `service.cacheTime`. */
  keep: z.number().int().min(1).max(10_000).default(10),
  /** Also publish each snapshot's JPEG bytes on this topic of the gateway's broker (QoS 0). */
  publishTopic: z.string().min(1).regex(/^[^#+]+$/, 'a topic name, without the wildcards + and #').optional(),
  /** How long one snapshot may take. */
  timeout: duration().default(10_000),
});

const forwardSchema = z.strictObject({
  /** Where the stream is relayed: rtsp(s):// (muxer rtsp) or rtmp(s):// (muxer flv). */
  target: relayTarget,
  /** Profile whose stream is relayed (default: streamAddress, else the first profile). */
  profile: z.union([z.string().min(1), z.number().int().nonnegative()]).optional(),
  /** Relay from the start (writes to `forward.enabled` turn it on and off at run time). */
  enabled: z.boolean().default(true),
  /** RTSP transport used to read the camera (`udp` as the issue's command line; `tcp` for NAT). */
  transport: z.enum(['udp', 'tcp']).default('udp'),
  /** First restart delay and its upper bound after ffmpeg exits. */
  backoff: z.strictObject({ initial: duration().default(1000), max: duration().default(30_000) }).default({ initial: 1000, max: 30_000 }),
  /** A relay that ran this long counts as healthy: the next restart starts from `backoff.initial`. */
  stableAfter: duration().default(10_000),
});

const probeSchema = z.strictObject({
  /** At most one ffprobe per this period (it opens the stream, which is expensive). */
  interval: duration().default(30_000),
  /** ffprobe is killed after this long. */
  timeout: duration().default(10_000),
  /** RTSP transport for ffprobe and snapshot grabs. */
  transport: z.enum(['udp', 'tcp']).default('udp'),
});

/** `accessConfig.ipc` of one camera. */
export const ipcConnectionSchema = z
  .strictObject({
    // Baetyl's keys (IpcDeviceConfig)
    name: z.string().optional(),
    ip: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).default(80),
    username: z.string().optional(),
    password: z.string().optional(),
    streamAddress: rtspUrl.optional(),
    /** Re-publish the RTSP stream to `remoteAddress` (Baetyl); same as `forward: {target: remoteAddress}`. */
    agentEnable: z.boolean().default(false),
    remoteAddress: relayTarget.optional(),
    serviceName: z.string().optional(),
    resultTopic: z.string().optional(),
    system: z.union([z.boolean(), z.string()]).optional(),
    service: serviceSchema.default({ imageFormat: 'jpg', cacheTime: 3 }),
    ...baseConnectionShape({ interval: 5000, timeout: 5000 }),
    // fieldgate's additions
    /** Use the ONVIF device service at ip:port (default: true when `ip` is given). */
    onvif: z.boolean().optional(),
    /** ONVIF device service path. */
    path: z.string().regex(/^\//).default('/onvif/device_service'),
    /** Stream health by ffprobe. */
    probe: probeSchema.default({ interval: 30_000, timeout: 10_000, transport: 'udp' }),
    snapshot: snapshotSchema.optional(),
    forward: forwardSchema.optional(),
    /** Run an ONVIF pull-point subscription and publish motion/tampering as events. */
    events: z.boolean().default(false),
    /** PTZ profile (index, token or name); default the first profile with a PTZ configuration. */
    ptzProfile: z.union([z.string().min(1), z.number().int().nonnegative()]).optional(),
  })
  .superRefine((v, ctx) => {
    const onvif = v.onvif ?? v.ip !== undefined;
    if (onvif && v.ip === undefined) ctx.addIssue({ code: 'custom', path: ['ip'], message: 'onvif: true needs the camera ip (and port, default 80)' });
    if (!onvif && v.streamAddress === undefined) {
      ctx.addIssue({ code: 'custom', path: ['streamAddress'], message: 'give ip (ONVIF camera) or streamAddress (an RTSP URL for a camera without ONVIF)' });
    }
    if ((v.username === undefined) !== (v.password === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'give both username and password (or neither)' });
    }
    if (v.agentEnable && v.remoteAddress === undefined && v.forward === undefined) {
      ctx.addIssue({ code: 'custom', path: ['remoteAddress'], message: 'agentEnable re-publishes the stream to remoteAddress: give it (rtsp://… or rtmp://…)' });
    }
    if (!onvif && v.events) ctx.addIssue({ code: 'custom', path: ['events'], message: 'events come from the ONVIF event service: they need ip (onvif: true)' });
    if (!onvif && v.snapshot?.source === 'onvif') {
      ctx.addIssue({ code: 'custom', path: ['snapshot', 'source'], message: 'source onvif needs the ONVIF service; use stream (ffmpeg grabs a frame) or auto' });
    }
  })
  .transform((v) => {
    const onvif = v.onvif ?? v.ip !== undefined;
    // Baetyl's agentEnable/remoteAddress is a forward section in our terms; ours wins when both.
    const forward =
      v.forward ??
      (v.agentEnable && v.remoteAddress !== undefined
        ? { target: v.remoteAddress, enabled: true, transport: 'udp' as const, backoff: { initial: 1000, max: 30_000 }, stableAfter: 10_000 }
        : undefined);
    const fps = v.service.fps ?? 0;
    // Baetyl's fps is a frame-extraction rate; files on disk are capped at one per second.
    const snapshotEvery = v.snapshot?.every ?? (fps > 0 ? Math.max(1000, Math.round(1000 / fps)) : undefined);
    return { ...v, onvif, forward, snapshotEvery };
  });
export type IpcConnection = z.output<typeof ipcConnectionSchema>;
export type ForwardConfig = NonNullable<IpcConnection['forward']>;

/**
 * Cameras share a session when they are the same camera with the same credentials (a device with
 * a wrong password must not ride on a good session). The key is logged: the password appears only
 * as a short hash, and a stream URL only without its password.
 */
export function ipcLinkKey(c: IpcConnection): string {
  const secret = createHash('sha256').update(c.password ?? '').digest('hex').slice(0, 8);
  return JSON.stringify(c.onvif ? ['onvif', c.ip, c.port, c.path, c.username ?? '', secret] : ['rtsp', redact(c.streamAddress ?? ''), createHash('sha256').update(c.streamAddress ?? '').digest('hex').slice(0, 8)]);
}
