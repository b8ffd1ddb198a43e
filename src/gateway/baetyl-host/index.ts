/**
 * Hosting of Baetyl process-mode drivers (baetyl-gateway-sdk: Go, Java, Python, C#, C++) under
 * fieldgate, unchanged: program.yml `entry:`, the go-plugin handshake, `proto.Driver` /
 * `proto.Report` over gRPC. See docs/baetyl-drivers.md.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { DriverError } from '../../drivers/sdk/index.ts';
import type { BaseConnection, DriverDescriptor } from '../../drivers/sdk/index.ts';
import { baetylDescriptor } from './descriptor.ts';
import type { BaetylDriverOptions } from './descriptor.ts';
import { loadProgram } from './program.ts';

export { BaetylHost } from './host.ts';
export type { BaetylHostOptions, HostListener, HostState } from './host.ts';
export { baetylConnectionSchema, baetylDescriptor, DEFAULT_GET_TIMEOUT, DEFAULT_POLL_INTERVAL, hostedDriver } from './descriptor.ts';
export type { BaetylConnection, BaetylDriverOptions } from './descriptor.ts';
export { decodeHandshake, parseHandshakeLine, readHandshake } from './handshake.ts';
export type { Handshake, HandshakeDecode } from './handshake.ts';
export { entryCommand, loadProgram, parseProgram } from './program.ts';
export type { ProgramEntry } from './program.ts';

/** Options of {@link baetylDriverLoader}: those of the descriptor, with `id` found when omitted. */
export type BaetylLoaderOptions = Omit<BaetylDriverOptions, 'dir' | 'id'> & { readonly id?: string };

/**
 * The `accessConfig` key every device of the folder's sub_devices.yml uses (`custom`, `modbus`…):
 * it is the driver id under which fieldgate compiles the folder.
 */
export async function detectDriverKey(dir: string): Promise<string> {
  let text: string | undefined;
  for (const name of ['sub_devices.yml', 'sub_devices.yaml']) {
    try {
      text = await readFile(path.join(dir, name), 'utf8');
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  if (text === undefined) throw new DriverError('Config', `${path.join(dir, 'sub_devices.yml')} not found: a Baetyl driver folder holds it`);
  const devices = (parse(text) as { devices?: unknown } | null)?.devices;
  const keys = new Set<string>();
  if (Array.isArray(devices)) {
    for (const d of devices) {
      const ac = (d as { accessConfig?: unknown } | null)?.accessConfig;
      if (ac !== null && typeof ac === 'object') for (const k of Object.keys(ac)) keys.add(k);
    }
  }
  const [only, ...more] = [...keys];
  if (only === undefined || more.length > 0) {
    throw new DriverError('Config', `${path.join(dir, 'sub_devices.yml')}: cannot tell the driver id from accessConfig keys (${[...keys].join(', ') || 'none'}); give it explicitly`);
  }
  return only;
}

/**
 * A registry loader for one Baetyl driver folder: checks program.yml (unless `entry` is given),
 * finds the id, and returns the descriptor. The process starts when the gateway first connects.
 * Register it under the id the folder's files use, e.g.
 * `createRegistry({ custom: baetylDriverLoader('conf/custom-py') })`.
 */
export function baetylDriverLoader(dir: string, options: BaetylLoaderOptions = {}): () => Promise<DriverDescriptor<BaseConnection, unknown>> {
  return async () => {
    const abs = path.resolve(dir);
    if (options.entry === undefined) await loadProgram(abs);
    const id = options.id ?? (await detectDriverKey(abs));
    return baetylDescriptor({ ...options, dir: abs, id }) as unknown as DriverDescriptor<BaseConnection, unknown>;
  };
}
