/**
 * Loads @bacnet-js/client on first use (DESIGN: heavy stacks load only when a device uses the
 * driver) and opens a client on our own UDP transport.
 */
import type BACnetPkg from '@bacnet-js/client';
import { createRequire } from 'node:module';
import { DriverError } from '../sdk/index.ts';
import type { CovPayload } from './cov.ts';
import type { CovDecode } from './cov-intake.ts';
import { UdpTransport } from './transport.ts';

/** The client class of @bacnet-js/client (the CommonJS module's `default`). */
export type BacnetClient = BACnetPkg.default;
type ClientCtor = new (options: ConstructorParameters<typeof BACnetPkg.default>[0]) => BacnetClient;

let loaded: Promise<ClientCtor> | undefined;

/** The client class; the package is CommonJS, so the class is `module.exports.default`. */
export function loadClientClass(): Promise<ClientCtor> {
  loaded ??= import('@bacnet-js/client').then((m) => {
    const ns = m as unknown as { default: ClientCtor & { default?: ClientCtor } };
    return ns.default.default ?? ns.default;
  });
  return loaded;
}

let covDecode: CovDecode | undefined;

/**
 * @bacnet-js/client's own COVNotification decoder (§13.1.2 parameters at an offset), called
 * directly instead of through the client's event path. The package index does not export its
 * services; the CommonJS file is reachable by path (the package has no exports map).
 */
export function covNotifyDecoder(): CovDecode {
  if (covDecode === undefined) {
    const m = createRequire(import.meta.url)('@bacnet-js/client/dist/lib/services/CovNotify.js') as { default: { decode(b: Buffer, o: number, l: number): unknown } };
    const CovNotify = m.default;
    covDecode = (b, o, l) => CovNotify.decode(b, o, l) as CovPayload | undefined;
  }
  return covDecode;
}

/** Options of {@link openClient}. */
export interface OpenClientOptions {
  readonly port: number;
  readonly interface: string;
  readonly broadcastAddress: string;
  /** Request timeout of the library (ms). */
  readonly apduTimeout: number;
}

/** Opens a client bound to `interface:port`; rejects with `Offline` when the port cannot be bound. */
export async function openClient(o: OpenClientOptions): Promise<{ client: BacnetClient; transport: UdpTransport }> {
  const Client = await loadClientClass();
  const transport = new UdpTransport({ port: o.port, interface: o.interface, broadcastAddress: o.broadcastAddress });
  const client = new Client({ transport, apduTimeout: o.apduTimeout, broadcastAddress: o.broadcastAddress });
  // The library re-emits socket errors; without a listener an EventEmitter 'error' would throw.
  client.on('error', () => undefined);
  try {
    await transport.ready;
  } catch (e) {
    client.close();
    throw new DriverError('Offline', `cannot bind UDP ${o.interface}:${o.port}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return { client, transport };
}
