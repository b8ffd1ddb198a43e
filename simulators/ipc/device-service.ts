/**
 * ONVIF device service (tds, ONVIF Core §8): what a client calls first. `GetServices` lists
 * Media 1 (ver10), Events and PTZ (ver20) and no Media 2, so clients stay on Profile S calls.
 */
import { opKey, PATHS } from './context.ts';
import type { CameraContext, Handler, ServiceTable } from './context.ts';
import { NS } from './soap.ts';
import { escapeXml as x, textAt } from './xml.ts';

function dateTime(tag: string, d: Date): string {
  return (
    `<tt:${tag}><tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date></tt:${tag}>`
  );
}

const getSystemDateAndTime: Handler = (_req, ctx) => {
  const d = new Date(ctx.now());
  return (
    `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>` +
    `<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>${dateTime('UTCDateTime', d)}${dateTime('LocalDateTime', d)}</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`
  );
};

/** The services this camera offers, with their XAddrs. */
interface ServiceEntry {
  readonly ns: string;
  readonly path: string;
  readonly major: number;
  readonly minor: number;
  readonly caps: string;
}

function services(ctx: CameraContext): ServiceEntry[] {
  const list: ServiceEntry[] = [
    { ns: NS.tds, path: PATHS.device, major: 2, minor: 60, caps: '<tds:Capabilities><tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false" DynDNS="false"/><tds:Security UsernameToken="true" HttpDigest="true"/><tds:System DiscoveryResolve="false" DiscoveryBye="false" RemoteDiscovery="false"/></tds:Capabilities>' },
    { ns: NS.trt, path: PATHS.media, major: 2, minor: 60, caps: '<trt:Capabilities SnapshotUri="true" Rotation="false"><trt:ProfileCapabilities MaximumNumberOfProfiles="4"/><trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="false" RTP_RTSP_TCP="false"/></trt:Capabilities>' },
    { ns: NS.tev, path: PATHS.events, major: 2, minor: 60, caps: '<tev:Capabilities WSSubscriptionPolicySupport="false" WSPullPointSupport="true" WSPausableSubscriptionManagerInterfaceSupport="false" MaxPullPoints="32"/>' },
  ];
  if (ctx.ptz !== undefined) list.push({ ns: NS.tptz, path: PATHS.ptz, major: 2, minor: 60, caps: '<tptz:Capabilities EFlip="false" Reverse="false" GetCompatibleConfigurations="false"/>' });
  return list;
}

const getServices: Handler = (req, ctx) => {
  const withCaps = textAt(req.op, 'IncludeCapability') === 'true';
  const items = services(ctx).map(
    (s) =>
      `<tds:Service><tds:Namespace>${s.ns}</tds:Namespace><tds:XAddr>${x(ctx.baseUrl() + s.path)}</tds:XAddr>` +
      (withCaps ? `<tds:Capabilities>${s.caps}</tds:Capabilities>` : '') +
      `<tds:Version><tt:Major>${s.major}</tt:Major><tt:Minor>${s.minor}</tt:Minor></tds:Version></tds:Service>`,
  );
  return `<tds:GetServicesResponse>${items.join('')}</tds:GetServicesResponse>`;
};

const getCapabilities: Handler = (_req, ctx) => {
  const b = x(ctx.baseUrl());
  return (
    `<tds:GetCapabilitiesResponse><tds:Capabilities>` +
    `<tt:Device><tt:XAddr>${b}${PATHS.device}</tt:XAddr><tt:Network><tt:IPFilter>false</tt:IPFilter><tt:ZeroConfiguration>false</tt:ZeroConfiguration><tt:IPVersion6>false</tt:IPVersion6><tt:DynDNS>false</tt:DynDNS></tt:Network>` +
    `<tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>false</tt:DiscoveryBye><tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup><tt:SystemLogging>false</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>` +
    `<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions></tt:System>` +
    `<tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>false</tt:TLS1.2><tt:OnboardKeyGeneration>false</tt:OnboardKeyGeneration><tt:AccessPolicyConfig>false</tt:AccessPolicyConfig><tt:X.509Token>false</tt:X.509Token><tt:SAMLToken>false</tt:SAMLToken><tt:KerberosToken>false</tt:KerberosToken><tt:RELToken>false</tt:RELToken></tt:Security></tt:Device>` +
    `<tt:Events><tt:XAddr>${b}${PATHS.events}</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport><tt:WSPullPointSupport>true</tt:WSPullPointSupport><tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>` +
    `<tt:Media><tt:XAddr>${b}${PATHS.media}</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>false</tt:RTP_TCP><tt:RTP_RTSP_TCP>false</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>` +
    (ctx.ptz !== undefined ? `<tt:PTZ><tt:XAddr>${b}${PATHS.ptz}</tt:XAddr></tt:PTZ>` : '') +
    `</tds:Capabilities></tds:GetCapabilitiesResponse>`
  );
};

const getDeviceInformation: Handler = (_req, ctx) => {
  const i = ctx.info;
  return (
    `<tds:GetDeviceInformationResponse><tds:Manufacturer>${x(i.manufacturer)}</tds:Manufacturer><tds:Model>${x(i.model)}</tds:Model>` +
    `<tds:FirmwareVersion>${x(i.firmwareVersion)}</tds:FirmwareVersion><tds:SerialNumber>${x(i.serialNumber)}</tds:SerialNumber>` +
    `<tds:HardwareId>${x(i.hardwareId)}</tds:HardwareId></tds:GetDeviceInformationResponse>`
  );
};

const getScopes: Handler = (_req, ctx) =>
  `<tds:GetScopesResponse>${ctx.scopes.map((s) => `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${x(s)}</tt:ScopeItem></tds:Scopes>`).join('')}</tds:GetScopesResponse>`;

const getHostname: Handler = (_req, ctx) =>
  `<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP><tt:Name>${x(ctx.info.model.replace(/[^A-Za-z0-9-]/g, '-'))}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>`;

const getServiceCapabilities: Handler = (_req, ctx) =>
  `<tds:GetServiceCapabilitiesResponse>${services(ctx)[0]!.caps}</tds:GetServiceCapabilitiesResponse>`;

/** Device service operations. `GetSystemDateAndTime` is answered without authentication (Core §5.9.4). */
export const deviceService: ServiceTable = new Map<string, Handler>([
  [opKey(NS.tds, 'GetSystemDateAndTime'), getSystemDateAndTime],
  [opKey(NS.tds, 'GetServices'), getServices],
  [opKey(NS.tds, 'GetCapabilities'), getCapabilities],
  [opKey(NS.tds, 'GetDeviceInformation'), getDeviceInformation],
  [opKey(NS.tds, 'GetScopes'), getScopes],
  [opKey(NS.tds, 'GetHostname'), getHostname],
  [opKey(NS.tds, 'GetServiceCapabilities'), getServiceCapabilities],
]);
