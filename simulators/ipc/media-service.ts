/**
 * ONVIF Media 1 service (trt, ONVIF Media spec ver10): profiles, the one video source, stream
 * and snapshot URIs. Every profile uses the same video source configuration (one sensor) and,
 * when the camera has PTZ, the same PTZ configuration.
 */
import { opKey, PATHS } from './context.ts';
import type { CameraContext, Handler, MediaProfile, ServiceTable } from './context.ts';
import { ptzConfigurationXml } from './ptz-service.ts';
import { FAULTS, NS, required, SoapFault } from './soap.ts';
import { escapeXml as x } from './xml.ts';

export const VIDEO_SOURCE = 'VideoSource_1';
const VSC = 'VideoSourceConfig_1';

function sensor(ctx: CameraContext): { width: number; height: number; fps: number } {
  const best = [...ctx.profiles].sort((a, b) => b.width * b.height - a.width * a.height)[0];
  return { width: best?.width ?? 1280, height: best?.height ?? 720, fps: Math.max(...ctx.profiles.map((p) => p.fps), 1) };
}

function sourceConfigXml(ctx: CameraContext, tag: string): string {
  const s = sensor(ctx);
  return (
    `<${tag} token="${VSC}"><tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>${ctx.profiles.length}</tt:UseCount>` +
    `<tt:SourceToken>${VIDEO_SOURCE}</tt:SourceToken><tt:Bounds x="0" y="0" width="${s.width}" height="${s.height}"/></${tag}>`
  );
}

function encoderConfigXml(p: MediaProfile, tag: string): string {
  const codec =
    p.encoding === 'H264'
      ? `<tt:H264><tt:GovLength>${Math.max(1, Math.round(p.fps))}</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>`
      : '';
  return (
    `<${tag} token="VideoEncoder_${x(p.token)}"><tt:Name>${x(p.name)}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>${p.encoding}</tt:Encoding>` +
    `<tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality>` +
    `<tt:RateControl><tt:FrameRateLimit>${p.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>${p.bitrate}</tt:BitrateLimit></tt:RateControl>${codec}` +
    `<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>` +
    `<tt:SessionTimeout>PT60S</tt:SessionTimeout></${tag}>`
  );
}

function profileXml(ctx: CameraContext, p: MediaProfile, tag: string): string {
  return (
    `<${tag} token="${x(p.token)}" fixed="true"><tt:Name>${x(p.name)}</tt:Name>${sourceConfigXml(ctx, 'tt:VideoSourceConfiguration')}` +
    `${encoderConfigXml(p, 'tt:VideoEncoderConfiguration')}${ctx.ptz !== undefined ? ptzConfigurationXml('tt:PTZConfiguration') : ''}</${tag}>`
  );
}

/** The profile named by the request's `ProfileToken`, or a `ter:NoProfile` fault. */
export function profileOf(ctx: CameraContext, token: string): MediaProfile {
  const p = ctx.profiles.find((q) => q.token === token);
  if (p === undefined) throw new SoapFault(FAULTS.invalidArg('ter:NoProfile', `no profile "${token}"`));
  return p;
}

const getProfiles: Handler = (_req, ctx) => `<trt:GetProfilesResponse>${ctx.profiles.map((p) => profileXml(ctx, p, 'trt:Profiles')).join('')}</trt:GetProfilesResponse>`;

const getProfile: Handler = (req, ctx) => `<trt:GetProfileResponse>${profileXml(ctx, profileOf(ctx, required(req.op, 'ProfileToken')), 'trt:Profile')}</trt:GetProfileResponse>`;

const getVideoSources: Handler = (_req, ctx) => {
  const s = sensor(ctx);
  return (
    `<trt:GetVideoSourcesResponse><trt:VideoSources token="${VIDEO_SOURCE}"><tt:Framerate>${s.fps}</tt:Framerate>` +
    `<tt:Resolution><tt:Width>${s.width}</tt:Width><tt:Height>${s.height}</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`
  );
};

const getVideoSourceConfigurations: Handler = (_req, ctx) =>
  `<trt:GetVideoSourceConfigurationsResponse>${sourceConfigXml(ctx, 'trt:Configurations')}</trt:GetVideoSourceConfigurationsResponse>`;

const getVideoEncoderConfigurations: Handler = (_req, ctx) =>
  `<trt:GetVideoEncoderConfigurationsResponse>${ctx.profiles.map((p) => encoderConfigXml(p, 'trt:Configurations')).join('')}</trt:GetVideoEncoderConfigurationsResponse>`;

function mediaUri(tag: string, uri: string): string {
  return `<${tag}><trt:MediaUri><tt:Uri>${x(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></${tag}>`;
}

const getStreamUri: Handler = (req, ctx) => {
  const p = profileOf(ctx, required(req.op, 'ProfileToken'));
  return mediaUri('trt:GetStreamUriResponse', ctx.streamUri(p.token));
};

const getSnapshotUri: Handler = (req, ctx) => {
  const p = profileOf(ctx, required(req.op, 'ProfileToken'));
  return mediaUri('trt:GetSnapshotUriResponse', `${ctx.baseUrl()}${PATHS.snapshot}${encodeURIComponent(p.token)}.jpg`);
};

const getServiceCapabilities: Handler = () =>
  '<trt:GetServiceCapabilitiesResponse><trt:Capabilities SnapshotUri="true" Rotation="false"><trt:ProfileCapabilities MaximumNumberOfProfiles="4"/><trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="false" RTP_RTSP_TCP="false"/></trt:Capabilities></trt:GetServiceCapabilitiesResponse>';

export const mediaService: ServiceTable = new Map<string, Handler>([
  [opKey(NS.trt, 'GetProfiles'), getProfiles],
  [opKey(NS.trt, 'GetProfile'), getProfile],
  [opKey(NS.trt, 'GetVideoSources'), getVideoSources],
  [opKey(NS.trt, 'GetVideoSourceConfigurations'), getVideoSourceConfigurations],
  [opKey(NS.trt, 'GetVideoEncoderConfigurations'), getVideoEncoderConfigurations],
  [opKey(NS.trt, 'GetStreamUri'), getStreamUri],
  [opKey(NS.trt, 'GetSnapshotUri'), getSnapshotUri],
  [opKey(NS.trt, 'GetServiceCapabilities'), getServiceCapabilities],
]);
