/**
 * `fieldgate discover onvif`: sends a WS-Discovery Probe for ONVIF video transmitters (unicast to
 * `--address`:`--port`, 127.0.0.1:3702 by default; to the multicast group 239.255.255.250:3702
 * only with `--multicast`), connects to each camera that answers (its ProbeMatch XAddrs, with
 * `--user`/`--password`), and prints (or writes into a folder) the Baetyl files for them: a device
 * model and an access template per camera (device information, profiles with their resolution,
 * frame rate, stream and snapshot URIs, stream health, snapshots, and PTZ when the camera has it)
 * and a `sub_devices.yml` with one `accessConfig.ipc` per camera.
 *
 * Exit codes: 0 done, 1 no camera answered (or none could be read), 2 bad options.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseDuration } from '../../devicemodel/duration.ts';
import type { ModelType, PointType } from '../../devicemodel/types.ts';
import { OnvifCamera } from '../../drivers/ipc/onvif.ts';
import type { ProfileInfo } from '../../drivers/ipc/onvif.ts';
import { probe, WSD_MULTICAST } from '../../drivers/ipc/wsdiscovery.ts';
import type { Found } from '../../drivers/ipc/wsdiscovery.ts';
import type { DiscoverIo } from './discover.ts';

/** Options of `fieldgate discover onvif` (commander's camel-cased names). */
export interface DiscoverOnvifOptions {
  /** Where the Probe goes (unicast), default 127.0.0.1; repeatable (the first is used). */
  readonly address?: string | readonly string[];
  /** WS-Discovery UDP port of `address` (default 3702). */
  readonly port?: number | string;
  /** Probe the multicast group 239.255.255.250:3702 instead of `address`. */
  readonly multicast?: boolean;
  /** How long to collect answers, and the ONVIF request timeout (default 3s). */
  readonly timeout?: string;
  readonly user?: string;
  /** The same as `user` (the spelling other discover commands use). */
  readonly username?: string;
  readonly password?: string;
  /** Poll interval written into sub_devices.yml (default 5s). */
  readonly interval?: string;
  readonly product?: string;
  readonly template?: string;
  readonly device?: string;
  readonly out?: string;
  readonly force?: boolean;
}

/** One property of the generated model and template. */
interface Prop {
  readonly name: string;
  readonly address: string;
  readonly point: PointType;
  readonly model: ModelType;
  readonly mode: 'ro' | 'rw';
  readonly unit?: string;
  readonly description: string;
}

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'camera';

/** The properties a camera with these profiles offers (pure; tested). */
export function cameraProperties(profiles: readonly ProfileInfo[]): Prop[] {
  const out: Prop[] = [
    { name: 'online', address: 'online', point: 'bool', model: 'bool', mode: 'ro', description: 'The camera answers' },
    { name: 'manufacturer', address: 'info.manufacturer', point: 'string', model: 'string', mode: 'ro', description: 'GetDeviceInformation Manufacturer' },
    { name: 'model', address: 'info.model', point: 'string', model: 'string', mode: 'ro', description: 'GetDeviceInformation Model' },
    { name: 'firmware', address: 'info.firmware', point: 'string', model: 'string', mode: 'ro', description: 'GetDeviceInformation FirmwareVersion' },
    { name: 'serial', address: 'info.serial', point: 'string', model: 'string', mode: 'ro', description: 'GetDeviceInformation SerialNumber' },
  ];
  profiles.forEach((p, i) => {
    const key = slug(p.token);
    const sel = /^[A-Za-z0-9_.:-]{1,64}$/.test(p.token) && !/^\d+$/.test(p.token) ? p.token : String(i);
    const at = (f: string) => `profile[${sel}].${f}`;
    out.push(
      { name: `${key}-encoding`, address: at('encoding'), point: 'string', model: 'string', mode: 'ro', description: `Profile ${p.name || p.token}: video encoding` },
      { name: `${key}-width`, address: at('width'), point: 'int32', model: 'int32', mode: 'ro', unit: 'px', description: `Profile ${p.name || p.token}: width` },
      { name: `${key}-height`, address: at('height'), point: 'int32', model: 'int32', mode: 'ro', unit: 'px', description: `Profile ${p.name || p.token}: height` },
      { name: `${key}-fps`, address: at('fps'), point: 'float32', model: 'float32', mode: 'ro', unit: 'fps', description: `Profile ${p.name || p.token}: frame rate limit` },
      { name: `${key}-bitrate`, address: at('bitrate'), point: 'int32', model: 'int32', mode: 'ro', unit: 'kbit/s', description: `Profile ${p.name || p.token}: bitrate limit` },
      { name: `${key}-stream-uri`, address: at('streamUri'), point: 'string', model: 'string', mode: 'ro', description: `Profile ${p.name || p.token}: RTSP URI` },
    );
    if (p.snapshotUri) out.push({ name: `${key}-snapshot-uri`, address: at('snapshotUri'), point: 'string', model: 'string', mode: 'ro', description: `Profile ${p.name || p.token}: snapshot URI` });
  });
  out.push(
    { name: 'stream-codec', address: 'stream.codec', point: 'string', model: 'string', mode: 'ro', description: 'Codec of the first profile stream (ffprobe)' },
    { name: 'stream-fps', address: 'stream.fps', point: 'float32', model: 'float32', mode: 'ro', unit: 'fps', description: 'Measured frame rate (ffprobe)' },
    { name: 'stream-last-frame', address: 'stream.lastFrameTs', point: 'int64', model: 'int64', mode: 'ro', unit: 'ms', description: 'When ffprobe last saw a frame (epoch ms)' },
    { name: 'snapshot-path', address: 'snapshot.path', point: 'string', model: 'string', mode: 'ro', description: 'File of the last snapshot' },
    { name: 'snapshot-size', address: 'snapshot.size', point: 'int32', model: 'int32', mode: 'ro', unit: 'B', description: 'Size of the last snapshot' },
    { name: 'snapshot-take', address: 'snapshot.take', point: 'bool', model: 'bool', mode: 'rw', description: 'Write true to take a snapshot now' },
  );
  if (profiles.some((p) => p.ptz)) {
    out.push(
      { name: 'ptz-pan', address: 'ptz.pan', point: 'float64', model: 'float64', mode: 'ro', description: 'Pan position (ONVIF generic space, -1..1)' },
      { name: 'ptz-tilt', address: 'ptz.tilt', point: 'float64', model: 'float64', mode: 'ro', description: 'Tilt position (-1..1)' },
      { name: 'ptz-zoom', address: 'ptz.zoom', point: 'float64', model: 'float64', mode: 'ro', description: 'Zoom position (0..1)' },
      { name: 'ptz-move', address: 'ptz.move', point: 'string', model: 'string', mode: 'rw', description: 'Write {"pan","tilt","zoom","mode":"relative|absolute|continuous"}' },
      { name: 'ptz-stop', address: 'ptz.stop', point: 'bool', model: 'bool', mode: 'rw', description: 'Write true to stop moving' },
      { name: 'ptz-preset', address: 'ptz.preset', point: 'string', model: 'string', mode: 'rw', description: 'Write a preset token to go to it' },
    );
  }
  return out;
}

/** The device model, access template and sub-device of one camera (pure; tested). */
export function cameraFiles(
  props: readonly Prop[],
  names: { product: string; template: string; device: string },
  access: Record<string, unknown>,
): { model: unknown[]; template: unknown; device: unknown } {
  return {
    model: props.map((p) => ({ name: p.name, type: p.model, mode: p.mode, ...(p.unit ? { unit: p.unit } : {}), description: p.description })),
    template: {
      properties: props.map((p, i) => ({ name: p.name, id: String(i + 1), type: p.point, visitor: { ipc: p.address } })),
      mappings: props.map((p, i) => ({ attribute: p.name, type: 'value', expression: `x${i + 1}` })),
    },
    device: { name: names.device, version: '1', deviceModel: names.product, accessTemplate: names.template, accessConfig: { ipc: access } },
  };
}

/** The device service URL to use: one on the host that answered, else the first. */
function pickXAddr(f: Found): URL | undefined {
  const urls = f.xaddrs.flatMap((x) => {
    try {
      return [new URL(x)];
    } catch {
      return [];
    }
  });
  const host = f.from.slice(0, f.from.lastIndexOf(':'));
  return urls.find((u) => u.hostname === host) ?? urls[0];
}

/** Runs `fieldgate discover onvif`; resolves with the exit code. */
export async function discoverOnvifCommand(options: DiscoverOnvifOptions, io: DiscoverIo = {}): Promise<number> {
  const out = io.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = io.stderr ?? ((t: string) => void process.stderr.write(t));
  const timeout = parseDuration(options.timeout ?? '3s');
  const port = options.port === undefined ? 3702 : Number(options.port);
  const addresses = options.address === undefined ? [] : typeof options.address === 'string' ? [options.address] : [...options.address];
  const problems: string[] = [];
  if (timeout === undefined || timeout <= 0) problems.push(`--timeout: "${options.timeout}" is not a duration; write e.g. 3s`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`--port: expected a UDP port, got ${String(options.port)}`);
  if (options.multicast && addresses.length > 0) problems.push('--multicast and --address exclude each other');
  const user = options.user ?? options.username;
  if ((user === undefined) !== (options.password === undefined)) problems.push('give both --user and --password (or neither)');
  const interval = options.interval ?? '5s';
  if (parseDuration(interval) === undefined) problems.push(`--interval: "${interval}" is not a duration`);
  if (options.out !== undefined && !options.force) {
    const taken = ['models.yml', 'access_template.yml', 'sub_devices.yml'].filter((f) => existsSync(path.join(options.out!, f)));
    if (taken.length > 0) problems.push(`${taken.join(', ')} already in ${options.out}; use --force to overwrite`);
  }
  if (problems.length > 0) {
    err(`discover onvif: bad options\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 2;
  }
  const target = options.multicast ? { address: WSD_MULTICAST.address, port: WSD_MULTICAST.port } : { address: addresses[0] ?? '127.0.0.1', port };
  let found: Found[];
  try {
    found = await probe({ ...target, timeout: timeout! });
  } catch (e) {
    err(`discover onvif: probe to ${target.address}:${target.port} failed: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  if (found.length === 0) {
    err(`discover onvif: no camera answered a Probe to ${target.address}:${target.port} within ${options.timeout ?? '3s'}\n`);
    return 1;
  }
  const models: Record<string, unknown> = {};
  const templates: Record<string, unknown> = {};
  const devices: unknown[] = [];
  const several = found.length > 1;
  for (const [i, f] of found.entries()) {
    const url = pickXAddr(f);
    if (url === undefined) {
      err(`discover onvif: ${f.endpoint} gave no usable XAddrs (${f.xaddrs.join(' ')})\n`);
      continue;
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const camPort = url.port === '' ? 80 : Number(url.port);
    let cam: OnvifCamera;
    try {
      cam = await OnvifCamera.connect({ host, port: camPort, path: url.pathname || '/onvif/device_service', timeout: timeout!, ...(user !== undefined ? { username: user, password: options.password ?? '' } : {}) });
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      err(`discover onvif: ${url.href}: ${typeof code === 'string' ? `${code}: ` : ''}${e instanceof Error ? e.message : String(e)}\n`);
      continue;
    }
    try {
      const base = slug(`${cam.info.manufacturer}-${cam.info.model}`);
      const suffix = several ? `-${i + 1}` : '';
      const names = {
        product: `${options.product ?? base}${suffix}`,
        template: `${options.template ?? `${base}-ipc`}${suffix}`,
        device: `${options.device ?? `camera-${slug(cam.info.serial || String(i + 1))}`}${several && options.device !== undefined ? suffix : ''}`,
      };
      const access: Record<string, unknown> = {
        ip: host,
        port: camPort,
        ...(user !== undefined ? { username: user, password: options.password } : {}),
        interval,
        ...(url.pathname && url.pathname !== '/onvif/device_service' ? { path: url.pathname } : {}),
      };
      const files = cameraFiles(cameraProperties(cam.profiles), names, access);
      models[names.product] = files.model;
      templates[names.template] = files.template;
      devices.push(files.device);
      err(`discover onvif: ${f.endpoint} at ${url.host}: ${cam.info.manufacturer} ${cam.info.model} (serial ${cam.info.serial}), ${cam.profiles.length} profile(s)${cam.profiles.some((p) => p.ptz) ? ', PTZ' : ''}\n`);
    } finally {
      cam.close();
    }
  }
  if (devices.length === 0) {
    err('discover onvif: no camera could be read\n');
    return 1;
  }
  const docs: [string, unknown][] = [
    ['models.yml', models],
    ['access_template.yml', templates],
    ['sub_devices.yml', { devices, driver: '' }],
  ];
  if (options.out === undefined) {
    out(docs.map(([name, doc]) => `# ${name}\n${stringify(doc, { lineWidth: 0 })}`).join('---\n'));
    return 0;
  }
  mkdirSync(options.out, { recursive: true });
  for (const [name, doc] of docs) writeFileSync(path.join(options.out, name), stringify(doc, { lineWidth: 0 }));
  err(`discover onvif: wrote ${docs.map(([n]) => n).join(', ')} into ${options.out}\n`);
  return 0;
}
