/**
 * The IEC 60870-5-104 driver (controlling station): descriptor and factory.
 *
 * Devices with the same `endpoint` and `commonAddress` share one link (one TCP connection and
 * its values). `connect` tries `endpoint`, then each of `endpoints` in turn (redundant
 * controlled stations), starting with the one that worked last; after a lost link the next
 * connect starts with the following station. It never retries by itself: the gateway does.
 */
import { DriverError, SDK_VERSION } from '../sdk/index.ts';
import type { ConnectOptions, Driver, DriverContext, DriverDescriptor, Session } from '../sdk/index.ts';
import { checkIec104Point, iec104AddressSchema, iec104ConnectionSchema } from './address.ts';
import type { Iec104Address, Iec104Connection } from './address.ts';
import { Iec104Client } from './client.ts';
import { Iec104Session } from './session.ts';

/** The key devices share a link by. */
export function iec104LinkKey(c: Iec104Connection): string {
  return `iec104://${c.endpoint.host}:${c.endpoint.port}/${c.commonAddress}`;
}

function createDriver(ctx: DriverContext): Driver<Iec104Connection, Iec104Address> {
  /** Index into [endpoint, ...endpoints] to try first, per link. */
  const preferred = new Map<string, number>();
  return {
    async connect(connection: Iec104Connection, options: ConnectOptions): Promise<Session<Iec104Connection, Iec104Address>> {
      const key = iec104LinkKey(connection);
      const all = [connection.endpoint, ...connection.endpoints];
      const start = preferred.get(key) ?? 0;
      let last: DriverError | undefined;
      for (let i = 0; i < all.length; i++) {
        const idx = (start + i) % all.length;
        const ep = all[idx]!;
        const log = ctx.log.child({ driver: 'iec104', endpoint: `${ep.host}:${ep.port}`, ca: connection.commonAddress });
        try {
          const client = await Iec104Client.connect(connection, ep, {
            clock: ctx.clock,
            log,
            metrics: ctx.metrics,
            onLost: (e) => {
              // Redundancy: after a failure the next connect tries the other stations first.
              if (all.length > 1) preferred.set(key, (idx + 1) % all.length);
              options.onLost(e);
            },
          }, options.signal);
          preferred.set(key, idx);
          log.info('iec104 data transfer started');
          return new Iec104Session(client);
        } catch (e) {
          last = e instanceof DriverError ? e : new DriverError('Offline', String(e));
          log.warn({ error: last.message }, 'iec104 connect failed');
          if (options.signal.aborted) break;
        }
      }
      throw last ?? new DriverError('Offline', 'no endpoint');
    },
  };
}

/** The IEC 104 driver descriptor. */
export const iec104Driver: DriverDescriptor<Iec104Connection, Iec104Address> = {
  id: 'iec104',
  version: '0.1.0',
  sdkVersion: `^${SDK_VERSION}`,
  title: 'IEC 60870-5-104 (controlling station)',
  connectionSchema: iec104ConnectionSchema,
  addressSchema: iec104AddressSchema,
  checkPoint: checkIec104Point,
  capabilities: { read: true, write: true, subscribe: true, discover: false, batch: true },
  link: (c) => ({ key: iec104LinkKey(c), window: 1 }),
  create: createDriver,
};

export default iec104Driver;
