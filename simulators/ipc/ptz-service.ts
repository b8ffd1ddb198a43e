/**
 * ONVIF PTZ service (tptz, ONVIF PTZ spec ver20) over the simulated head of ptz-state.ts: one
 * node and one configuration, generic position/velocity/translation spaces (§5.7), presets,
 * home position and status. Every call, reads included, is counted in `ptzState().commands`.
 */
import { opKey } from './context.ts';
import type { CameraContext, Handler, OpRequest, ServiceTable } from './context.ts';
import { parseIsoDuration } from './iso-duration.ts';
import type { PtzHead, PtzPosition } from './ptz-state.ts';
import { MAX_PRESETS } from './ptz-state.ts';
import { FAULTS, NS, required, SoapFault } from './soap.ts';
import { child, escapeXml as x, textAt } from './xml.ts';
import type { XmlElement } from './xml.ts';

const NODE = 'PTZNode_1';
const CONFIG = 'PTZConfig_1';
const SPACE = 'http://www.onvif.org/ver10/tptz';
const S = {
  absPT: `${SPACE}/PanTiltSpaces/PositionGenericSpace`,
  absZ: `${SPACE}/ZoomSpaces/PositionGenericSpace`,
  relPT: `${SPACE}/PanTiltSpaces/TranslationGenericSpace`,
  relZ: `${SPACE}/ZoomSpaces/TranslationGenericSpace`,
  velPT: `${SPACE}/PanTiltSpaces/VelocityGenericSpace`,
  velZ: `${SPACE}/ZoomSpaces/VelocityGenericSpace`,
  speedPT: `${SPACE}/PanTiltSpaces/GenericSpeedSpace`,
  speedZ: `${SPACE}/ZoomSpaces/ZoomGenericSpeedSpace`,
};

const range = (tag: string, uri: string, x0: number, x1: number, y?: [number, number]): string =>
  `<tt:${tag}><tt:URI>${uri}</tt:URI><tt:XRange><tt:Min>${x0}</tt:Min><tt:Max>${x1}</tt:Max></tt:XRange>${y ? `<tt:YRange><tt:Min>${y[0]}</tt:Min><tt:Max>${y[1]}</tt:Max></tt:YRange>` : ''}</tt:${tag}>`;

const SPACES =
  range('AbsolutePanTiltPositionSpace', S.absPT, -1, 1, [-1, 1]) +
  range('AbsoluteZoomPositionSpace', S.absZ, 0, 1) +
  range('RelativePanTiltTranslationSpace', S.relPT, -1, 1, [-1, 1]) +
  range('RelativeZoomTranslationSpace', S.relZ, -1, 1) +
  range('ContinuousPanTiltVelocitySpace', S.velPT, -1, 1, [-1, 1]) +
  range('ContinuousZoomVelocitySpace', S.velZ, -1, 1) +
  `<tt:PanTiltSpeedSpace><tt:URI>${S.speedPT}</tt:URI><tt:XRange><tt:Min>0</tt:Min><tt:Max>1</tt:Max></tt:XRange></tt:PanTiltSpeedSpace>` +
  `<tt:ZoomSpeedSpace><tt:URI>${S.speedZ}</tt:URI><tt:XRange><tt:Min>0</tt:Min><tt:Max>1</tt:Max></tt:XRange></tt:ZoomSpeedSpace>`;

/** The PTZ configuration, under `tag` (also embedded in media profiles). */
export function ptzConfigurationXml(tag: string): string {
  return (
    `<${tag} token="${CONFIG}"><tt:Name>PTZConfig</tt:Name><tt:UseCount>1</tt:UseCount><tt:NodeToken>${NODE}</tt:NodeToken>` +
    `<tt:DefaultAbsolutePantTiltPositionSpace>${S.absPT}</tt:DefaultAbsolutePantTiltPositionSpace><tt:DefaultAbsoluteZoomPositionSpace>${S.absZ}</tt:DefaultAbsoluteZoomPositionSpace>` +
    `<tt:DefaultRelativePanTiltTranslationSpace>${S.relPT}</tt:DefaultRelativePanTiltTranslationSpace><tt:DefaultRelativeZoomTranslationSpace>${S.relZ}</tt:DefaultRelativeZoomTranslationSpace>` +
    `<tt:DefaultContinuousPanTiltVelocitySpace>${S.velPT}</tt:DefaultContinuousPanTiltVelocitySpace><tt:DefaultContinuousZoomVelocitySpace>${S.velZ}</tt:DefaultContinuousZoomVelocitySpace>` +
    `<tt:DefaultPTZSpeed><tt:PanTilt x="1" y="1" space="${S.speedPT}"/><tt:Zoom x="1" space="${S.speedZ}"/></tt:DefaultPTZSpeed><tt:DefaultPTZTimeout>PT10S</tt:DefaultPTZTimeout>` +
    `<tt:PanTiltLimits><tt:Range><tt:URI>${S.absPT}</tt:URI><tt:XRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:XRange><tt:YRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:YRange></tt:Range></tt:PanTiltLimits>` +
    `<tt:ZoomLimits><tt:Range><tt:URI>${S.absZ}</tt:URI><tt:XRange><tt:Min>0</tt:Min><tt:Max>1</tt:Max></tt:XRange></tt:Range></tt:ZoomLimits></${tag}>`
  );
}

function headOf(ctx: CameraContext): PtzHead {
  if (ctx.ptz === undefined) throw new SoapFault(FAULTS.actionNotSupported('PTZ'));
  return ctx.ptz;
}

/** Checks the request's profile, counts the command and returns the head. */
function begin(req: OpRequest, ctx: CameraContext, command: string, needsProfile = true): PtzHead {
  const head = headOf(ctx);
  head.record(command);
  if (needsProfile) {
    const token = required(req.op, 'ProfileToken');
    if (!ctx.profiles.some((p) => p.token === token)) throw new SoapFault(FAULTS.invalidArg('ter:NoProfile', `no profile "${token}"`));
  }
  return head;
}

function num(el: XmlElement | undefined, attr: string): number | undefined {
  const v = el?.attrs[attr];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new SoapFault(FAULTS.invalidArg('ter:InvalidArgs', `${el!.name}@${attr} is not a number`));
  return n;
}

/** PanTilt x/y and Zoom x of a PTZVector / PTZSpeed element; missing axes stay undefined. */
function vector(el: XmlElement | undefined): Partial<PtzPosition> {
  const pt = child(el, 'PanTilt');
  const z = child(el, 'Zoom');
  const out: { pan?: number; tilt?: number; zoom?: number } = {};
  const pan = num(pt, 'x');
  const tilt = num(pt, 'y');
  const zoom = num(z, 'x');
  if (pan !== undefined) out.pan = pan;
  if (tilt !== undefined) out.tilt = tilt;
  if (zoom !== undefined) out.zoom = zoom;
  return out;
}

const positionXml = (p: PtzPosition): string =>
  `<tt:PanTilt x="${p.pan}" y="${p.tilt}" space="${S.absPT}"/><tt:Zoom x="${p.zoom}" space="${S.absZ}"/>`;

const handlers: [string, Handler][] = [
  ['GetNodes', (req, ctx) => {
    begin(req, ctx, 'GetNodes', false);
    return (
      `<tptz:GetNodesResponse><tptz:PTZNode token="${NODE}" FixedHomePosition="false"><tt:Name>PTZ</tt:Name><tt:SupportedPTZSpaces>${SPACES}</tt:SupportedPTZSpaces>` +
      `<tt:MaximumNumberOfPresets>${MAX_PRESETS}</tt:MaximumNumberOfPresets><tt:HomeSupported>true</tt:HomeSupported></tptz:PTZNode></tptz:GetNodesResponse>`
    );
  }],
  ['GetConfigurations', (req, ctx) => {
    begin(req, ctx, 'GetConfigurations', false);
    return `<tptz:GetConfigurationsResponse>${ptzConfigurationXml('tptz:PTZConfiguration')}</tptz:GetConfigurationsResponse>`;
  }],
  ['GetConfigurationOptions', (req, ctx) => {
    begin(req, ctx, 'GetConfigurationOptions', false);
    return `<tptz:GetConfigurationOptionsResponse><tptz:PTZConfigurationOptions><tt:Spaces>${SPACES}</tt:Spaces><tt:PTZTimeout><tt:Min>PT1S</tt:Min><tt:Max>PT60S</tt:Max></tt:PTZTimeout></tptz:PTZConfigurationOptions></tptz:GetConfigurationOptionsResponse>`;
  }],
  ['ContinuousMove', (req, ctx) => {
    const head = begin(req, ctx, 'ContinuousMove');
    const t = textAt(req.op, 'Timeout');
    const timeout = t === undefined ? undefined : parseIsoDuration(t);
    if (t !== undefined && timeout === undefined) throw new SoapFault(FAULTS.invalidArg('ter:InvalidArgs', `bad Timeout "${t}"`));
    const v = child(req.op, 'Velocity');
    if (v === undefined) throw new SoapFault(FAULTS.invalidArg('ter:MissingArgument', 'missing Velocity'));
    head.continuous(vector(v), timeout);
    return '<tptz:ContinuousMoveResponse/>';
  }],
  ['RelativeMove', (req, ctx) => {
    begin(req, ctx, 'RelativeMove').relative(vector(child(req.op, 'Translation')));
    return '<tptz:RelativeMoveResponse/>';
  }],
  ['AbsoluteMove', (req, ctx) => {
    begin(req, ctx, 'AbsoluteMove').absolute(vector(child(req.op, 'Position')));
    return '<tptz:AbsoluteMoveResponse/>';
  }],
  ['Stop', (req, ctx) => {
    const head = begin(req, ctx, 'Stop');
    const pt = textAt(req.op, 'PanTilt');
    const z = textAt(req.op, 'Zoom');
    // ONVIF PTZ §5.3.5: with neither flag both stop; a flag set to false keeps that axis moving.
    head.stop(pt === undefined && z === undefined ? true : pt === 'true', pt === undefined && z === undefined ? true : z === 'true');
    return '<tptz:StopResponse/>';
  }],
  ['GetStatus', (req, ctx) => {
    const head = begin(req, ctx, 'GetStatus');
    const mv = head.moving();
    return (
      `<tptz:GetStatusResponse><tptz:PTZStatus><tt:Position>${positionXml(head.position())}</tt:Position>` +
      `<tt:MoveStatus><tt:PanTilt>${mv.panTilt ? 'MOVING' : 'IDLE'}</tt:PanTilt><tt:Zoom>${mv.zoom ? 'MOVING' : 'IDLE'}</tt:Zoom></tt:MoveStatus>` +
      `<tt:UtcTime>${new Date(ctx.now()).toISOString()}</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>`
    );
  }],
  ['GetPresets', (req, ctx) => {
    const head = begin(req, ctx, 'GetPresets');
    const items = head.presets().map((p) => `<tptz:Preset token="${x(p.token)}"><tt:Name>${x(p.name)}</tt:Name><tt:PTZPosition>${positionXml(p)}</tt:PTZPosition></tptz:Preset>`);
    return `<tptz:GetPresetsResponse>${items.join('')}</tptz:GetPresetsResponse>`;
  }],
  ['GotoPreset', (req, ctx) => {
    const head = begin(req, ctx, 'GotoPreset');
    const token = required(req.op, 'PresetToken');
    if (!head.gotoPreset(token)) throw new SoapFault(FAULTS.invalidArg('ter:NoToken', `no preset "${token}"`));
    return '<tptz:GotoPresetResponse/>';
  }],
  ['SetPreset', (req, ctx) => {
    const head = begin(req, ctx, 'SetPreset');
    const token = textAt(req.op, 'PresetToken');
    const name = textAt(req.op, 'PresetName');
    if (token !== undefined && token !== '' && !head.presets().some((p) => p.token === token)) throw new SoapFault(FAULTS.invalidArg('ter:NoToken', `no preset "${token}"`));
    if (name !== undefined && head.presets().some((p) => p.name === name && p.token !== token)) throw new SoapFault(FAULTS.invalidArg('ter:PresetExist', `preset name "${name}" exists`));
    const p = head.setPreset(name || undefined, token || undefined);
    if (p === undefined) throw new SoapFault({ code: 'env:Receiver', subcodes: ['ter:Action', 'ter:TooManyPresets'], reason: 'too many presets' });
    return `<tptz:SetPresetResponse><tptz:PresetToken>${x(p.token)}</tptz:PresetToken></tptz:SetPresetResponse>`;
  }],
  ['RemovePreset', (req, ctx) => {
    const head = begin(req, ctx, 'RemovePreset');
    const token = required(req.op, 'PresetToken');
    if (!head.removePreset(token)) throw new SoapFault(FAULTS.invalidArg('ter:NoToken', `no preset "${token}"`));
    return '<tptz:RemovePresetResponse/>';
  }],
  ['GotoHomePosition', (req, ctx) => {
    begin(req, ctx, 'GotoHomePosition').gotoHome();
    return '<tptz:GotoHomePositionResponse/>';
  }],
  ['SetHomePosition', (req, ctx) => {
    begin(req, ctx, 'SetHomePosition').setHome();
    return '<tptz:SetHomePositionResponse/>';
  }],
  ['GetServiceCapabilities', (req, ctx) => {
    begin(req, ctx, 'GetServiceCapabilities', false);
    return '<tptz:GetServiceCapabilitiesResponse><tptz:Capabilities EFlip="false" Reverse="false" GetCompatibleConfigurations="false"/></tptz:GetServiceCapabilitiesResponse>';
  }],
];

export const ptzService: ServiceTable = new Map(handlers.map(([name, h]) => [opKey(NS.tptz, name), h]));
