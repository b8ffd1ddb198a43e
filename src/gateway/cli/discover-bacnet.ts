/**
 * `fieldgate discover bacnet`: sends Who-Is (to each `--address`, unicast, or to the broadcast
 * address), collects the I-Am answers, reads each device's object-list and the object-name of
 * every object whose present-value the driver reads, and prints (or writes into a folder) the
 * Baetyl files for them: `models.yml` and `access_template.yml` (one product and template per
 * device, since every device has its own objects) and a `sub_devices.yml` with the devices at the
 * addresses they answered from, so that the folder loads as a driver instance as it is.
 *
 * ASHRAE 135: Who-Is/I-Am §16.10/§16.1, Object_List §12.11.16 (read whole, else element by
 * element with index 0 giving the length, §15.5), ReadPropertyMultiple §15.7.
 *
 * Exit codes: 0 done, 1 no device answered (or one could not be read), 2 bad options.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseDuration } from '../../devicemodel/duration.ts';
import type { ModelType, PointType } from '../../devicemodel/types.ts';
import { hostPort } from '../../drivers/bacnet/address.ts';
import { openClient } from '../../drivers/bacnet/client.ts';
import type { BacnetClient } from '../../drivers/bacnet/client.ts';
import { ARRAY_ALL, DEFAULT_PORT, OBJECT_TYPES, PROP, TAG } from '../../drivers/bacnet/constants.ts';
import { isServiceUnsupported, toBacnetError } from '../../drivers/bacnet/errors.ts';
import { splitAddress } from '../../drivers/bacnet/transport.ts';
import { presentValueTag } from '../../drivers/bacnet/values.ts';
import type { AppData } from '../../drivers/bacnet/values.ts';
import type { DiscoverIo } from './discover.ts';

/** Options of `fieldgate discover bacnet` (commander's camel-cased names). */
export interface DiscoverBacnetOptions {
  /** Unicast Who-Is targets, `ip` or `ip:port` (repeatable); absent: Who-Is to `broadcast`. */
  readonly address?: string | readonly string[];
  /** Device UDP port when an address has none (default 47808). */
  readonly port?: number | string;
  /** Where Who-Is goes without `address` (default 255.255.255.255). */
  readonly broadcast?: string;
  /** Only this device instance (Who-Is with low = high limit). */
  readonly deviceId?: number | string;
  /** Local address to bind (default 0.0.0.0); written into sub_devices.yml when given. */
  readonly interface?: string;
  /** Local UDP port (default 0, any free one). */
  readonly localPort?: number | string;
  /** How long to collect I-Am answers (default 3s). */
  readonly wait?: string;
  /** Request timeout (default 3s). */
  readonly timeout?: string;
  /** Most objects per device (default 1000). */
  readonly limit?: number | string;
  /** Poll interval written into sub_devices.yml (default 5s). */
  readonly interval?: string;
  /** Names written into the files (with several devices: prefixes, `-<deviceId>` appended). */
  readonly product?: string;
  readonly template?: string;
  readonly device?: string;
  /** Folder to write the three files into (created when missing); stdout when absent. */
  readonly out?: string;
  /** Overwrite files that exist in `out`. */
  readonly force?: boolean;
}

/** One device that answered Who-Is. */
interface Found {
  readonly deviceId: number;
  /** `ip:port` it answered from. */
  readonly endpoint: string;
  readonly maxApdu: number;
}

/** An object whose present-value the driver reads. */
interface Discovered {
  readonly type: number;
  readonly instance: number;
  name: string;
}

const OT = OBJECT_TYPES;
/** Point and model type, and whether present-value is commandable, by object type (§12). */
const KINDS: ReadonlyMap<number, { point: PointType; model: ModelType; rw: boolean }> = new Map([
  [OT['analog-input'], { point: 'float32', model: 'float32', rw: false }],
  [OT['analog-output'], { point: 'float32', model: 'float32', rw: true }],
  [OT['analog-value'], { point: 'float32', model: 'float32', rw: true }],
  [OT['binary-input'], { point: 'bool', model: 'bool', rw: false }],
  [OT['binary-output'], { point: 'bool', model: 'bool', rw: true }],
  [OT['binary-value'], { point: 'bool', model: 'bool', rw: true }],
  [OT['multi-state-input'], { point: 'uint16', model: 'uint16', rw: false }],
  [OT['multi-state-output'], { point: 'uint16', model: 'uint16', rw: true }],
  [OT['multi-state-value'], { point: 'uint16', model: 'uint16', rw: true }],
  [OT.accumulator, { point: 'uint32', model: 'uint32', rw: false }],
  [OT['characterstring-value'], { point: 'string', model: 'string', rw: true }],
  [OT['integer-value'], { point: 'int32', model: 'int32', rw: true }],
  [OT['large-analog-value'], { point: 'float64', model: 'float64', rw: true }],
  [OT['positive-integer-value'], { point: 'uint32', model: 'uint32', rw: true }],
]);

function int(name: string, v: number | string | undefined, fallback: number, min: number, max: number): number | string {
  if (v === undefined) return fallback;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isInteger(n) && n >= min && n <= max ? n : `--${name}: expected an integer in ${min}..${max}, got ${String(v)}`;
}

function ms(name: string, v: string | undefined, fallback: number): number | string {
  if (v === undefined) return fallback;
  const n = parseDuration(v);
  return n !== undefined && n > 0 ? n : `--${name}: expected a duration such as 3s or 500ms, got ${v}`;
}

/** A property name from an object-name: letters, digits, `_` and `-`; unique within the device. */
function uniqueName(raw: string, fallback: string, taken: Set<string>): string {
  const base = raw.trim().replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || fallback;
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

/** Sends Who-Is and collects I-Am answers for `waitMs` (less when every unicast target answered). */
function whoIs(client: BacnetClient, targets: readonly string[], deviceId: number | undefined, waitMs: number): Promise<Found[]> {
  return new Promise((resolve) => {
    const found = new Map<number, Found>();
    const answered = new Set<string>();
    const range = deviceId === undefined ? {} : { lowLimit: deviceId, highLimit: deviceId };
    const send = () => {
      for (const t of targets) if (!answered.has(t)) client.whoIs({ address: t }, range);
    };
    const onIAm = (m: { payload: { deviceId: number; maxApdu: number }; header?: { sender?: { address?: string } } }) => {
      const endpoint = m.header?.sender?.address;
      if (endpoint === undefined || (deviceId !== undefined && m.payload.deviceId !== deviceId)) return;
      found.set(m.payload.deviceId, { deviceId: m.payload.deviceId, endpoint, maxApdu: m.payload.maxApdu });
      answered.add(endpoint);
      // Unicast targets all answered (or the one device asked for): no need to wait longer.
      if ((!isBroadcast && targets.every((t) => answered.has(t))) || (deviceId !== undefined && found.size > 0)) done();
    };
    const isBroadcast = targets.length === 1 && /\.255(:\d+)?$/.test(targets[0]!);
    const retry = setTimeout(send, waitMs / 2);
    const timer = setTimeout(() => done(), waitMs);
    const done = () => {
      clearTimeout(retry);
      clearTimeout(timer);
      client.off('iAm', onIAm as never);
      resolve([...found.values()].sort((a, b) => a.deviceId - b.deviceId));
    };
    client.on('iAm', onIAm as never);
    send();
  });
}

/** The object identifiers of a device's object-list: whole, else element by element. */
async function objectList(client: BacnetClient, d: Found): Promise<{ type: number; instance: number }[]> {
  const dev = { type: OT.device, instance: d.deviceId };
  const ids = (values: readonly AppData[]) => values.filter((v) => v.type === TAG.OBJECT_ID).map((v) => v.value as { type: number; instance: number });
  try {
    return ids((await client.readProperty({ address: d.endpoint }, dev, PROP.objectList)).values as AppData[]);
  } catch (e) {
    const err = toBacnetError(e);
    if (err.code === 'Timeout' || err.code === 'Offline') throw err;
  }
  // Too long for one answer without segmentation: index 0 is the length (§12.11.16).
  const n = Number(((await client.readProperty({ address: d.endpoint }, dev, PROP.objectList, { arrayIndex: 0 })).values as AppData[])[0]?.value ?? 0);
  const out: { type: number; instance: number }[] = [];
  for (let i = 1; i <= n; i++) out.push(...ids((await client.readProperty({ address: d.endpoint }, dev, PROP.objectList, { arrayIndex: i })).values as AppData[]));
  return out;
}

/** Reads object-name of `objects` with ReadPropertyMultiple (halving batches that fail), else ReadProperty. */
async function readNames(client: BacnetClient, d: Found, objects: readonly Discovered[], rpm: { ok: boolean }): Promise<void> {
  const taken = new Set<string>();
  const names = new Map<Discovered, string>();
  const single = async (o: Discovered) => {
    try {
      const r = await client.readProperty({ address: d.endpoint }, { type: o.type, instance: o.instance }, PROP.objectName);
      names.set(o, String((r.values as AppData[])[0]?.value ?? ''));
    } catch (e) {
      const err = toBacnetError(e);
      if (err.code === 'Timeout' || err.code === 'Offline') throw err;
    }
  };
  const batch = async (list: readonly Discovered[]): Promise<void> => {
    if (!rpm.ok || list.length === 1) {
      for (const o of list) await single(o);
      return;
    }
    try {
      const ack = await client.readPropertyMultiple({ address: d.endpoint }, list.map((o) => ({ objectId: { type: o.type, instance: o.instance }, properties: [{ id: PROP.objectName, index: ARRAY_ALL }] })));
      for (const v of ack.values) {
        const o = list.find((x) => x.type === v.objectId.type && x.instance === v.objectId.instance);
        const first = (v.values[0]?.value as AppData[] | undefined)?.[0];
        if (o !== undefined && first?.type === TAG.CHARACTER_STRING) names.set(o, String(first.value));
      }
    } catch (e) {
      const err = toBacnetError(e);
      if (err.code === 'Timeout' || err.code === 'Offline') throw err;
      // A device without ReadPropertyMultiple rejects it (§18.8 unrecognized-service).
      if (isServiceUnsupported(err)) rpm.ok = false;
      const mid = Math.ceil(list.length / 2);
      await batch(list.slice(0, mid));
      await batch(list.slice(mid));
    }
  };
  // About 40 octets per object in the answer (identifier, property, a name of ~24 characters).
  const size = Math.max(1, Math.floor((d.maxApdu - 20) / 40));
  for (let i = 0; i < objects.length; i += size) await batch(objects.slice(i, i + size));
  for (const o of objects) o.name = uniqueName(names.get(o) ?? '', `${o.type}-${o.instance}`, taken);
}

/**
 * Runs `fieldgate discover bacnet`; resolves with the exit code. Writes the YAML to stdout
 * (three documents, each headed by its file name) or, with `out`, the three files.
 */
export async function discoverBacnetCommand(options: DiscoverBacnetOptions, io: DiscoverIo = {}): Promise<number> {
  const out = io.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = io.stderr ?? ((t: string) => void process.stderr.write(t));
  const port = int('port', options.port, DEFAULT_PORT, 1, 65535);
  const localPort = int('local-port', options.localPort, 0, 0, 65535);
  const limit = int('limit', options.limit, 1000, 1, 100_000);
  const deviceId = options.deviceId === undefined ? undefined : int('device-id', options.deviceId, 0, 0, 4_194_302);
  const wait = ms('wait', options.wait, 3000);
  const timeout = ms('timeout', options.timeout, 3000);
  const interval = options.interval ?? '5s';
  const problems = [port, localPort, limit, deviceId, wait, timeout, ms('interval', interval, 0)].filter((v): v is string => typeof v === 'string');
  if (problems.length > 0) {
    err(`discover bacnet: bad options\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 2;
  }
  if (options.out !== undefined && !options.force) {
    const taken = ['models.yml', 'access_template.yml', 'sub_devices.yml'].filter((f) => existsSync(path.join(options.out!, f)));
    if (taken.length > 0) {
      err(`discover: ${taken.join(', ')} already in ${options.out}; use --force to overwrite\n`);
      return 2;
    }
  }
  const addresses = options.address === undefined ? [] : typeof options.address === 'string' ? [options.address] : [...options.address];
  const targets = addresses.length > 0 ? addresses.map((a) => hostPort(a, port as number)) : [hostPort(options.broadcast ?? '255.255.255.255', port as number)];
  const iface = options.interface ?? '0.0.0.0';

  let opened;
  try {
    opened = await openClient({ port: localPort as number, interface: iface, broadcastAddress: targets[0]!, apduTimeout: timeout as number });
  } catch (e) {
    err(`discover bacnet: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const { client } = opened;
  const models: Record<string, { name: string; type: ModelType; mode: 'ro' | 'rw' }[]> = {};
  const templates: Record<string, unknown> = {};
  const devices: unknown[] = [];
  let objects = 0;
  let found: Found[] = [];
  try {
    found = await whoIs(client, targets, deviceId as number | undefined, wait as number);
    if (found.length === 0) {
      err(`discover bacnet: no I-Am${deviceId !== undefined ? ` from device ${deviceId}` : ''} within ${(wait as number) / 1000} s (Who-Is to ${targets.join(', ')})\n`);
      return 1;
    }
    const one = found.length === 1;
    for (const d of found) {
      const ids = await objectList(client, d);
      const list: Discovered[] = ids.filter((o) => KINDS.has(o.type) && presentValueTag(o.type) !== undefined).slice(0, limit as number).map((o) => ({ ...o, name: '' }));
      await readNames(client, d, list, { ok: true });
      objects += list.length;
      const product = one ? (options.product ?? `bacnet-${d.deviceId}`) : `${options.product ?? 'bacnet'}-${d.deviceId}`;
      const template = one ? (options.template ?? `${product}-template`) : `${options.template ?? 'bacnet-template'}-${d.deviceId}`;
      const name = one ? (options.device ?? `bacnet-device-${d.deviceId}`) : `${options.device ?? 'bacnet-device'}-${d.deviceId}`;
      models[product] = list.map((o) => ({ name: o.name, type: KINDS.get(o.type)!.model, mode: KINDS.get(o.type)!.rw ? 'rw' : 'ro' }));
      templates[template] = {
        properties: list.map((o, i) => ({
          name: o.name,
          id: String(i + 1),
          type: KINDS.get(o.type)!.point,
          // Baetyl's keys: object type number, instance, the application tag of present-value.
          visitor: { bacnet: { bacnetType: o.type, bacnetAddress: o.instance, applicationTagNumber: presentValueTag(o.type)!, type: KINDS.get(o.type)!.point } },
        })),
        mappings: list.map((o, i) => ({ attribute: o.name, type: 'value', expression: `x${i + 1}` })),
      };
      const at = splitAddress(d.endpoint);
      devices.push({
        name,
        version: '1',
        deviceModel: product,
        accessTemplate: template,
        accessConfig: { bacnet: { deviceId: d.deviceId, address: at.host, port: at.port, interval, ...(options.interface !== undefined ? { interface: options.interface } : {}) } },
      });
    }
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    err(`discover bacnet: ${typeof code === 'string' ? `${code}: ` : ''}${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    client.close();
  }

  const files: [string, unknown][] = [
    ['models.yml', models],
    ['access_template.yml', templates],
    ['sub_devices.yml', { devices, driver: '' }],
  ];
  const summary = `discover bacnet: ${found.length} device(s) (${found.map((d) => `${d.deviceId} at ${d.endpoint}`).join(', ')}), ${objects} object(s)`;
  if (options.out === undefined) {
    out(files.map(([n, doc]) => `# ${n}\n${stringify(doc, { lineWidth: 0 })}`).join('---\n'));
    err(`${summary}\n`);
    return 0;
  }
  mkdirSync(options.out, { recursive: true });
  for (const [n, doc] of files) writeFileSync(path.join(options.out, n), stringify(doc, { lineWidth: 0 }));
  err(`${summary}; wrote ${files.map(([n]) => n).join(', ')} into ${options.out}\n`);
  return 0;
}
