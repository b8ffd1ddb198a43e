/**
 * The BACnet/IP driver on @bacnet-js/client (loaded on first connect): ReadPropertyMultiple
 * batches sized to the device's max-APDU with a ReadProperty fallback, WriteProperty with
 * priority and relinquish, SubscribeCOV with renewal and a polling fallback, status flags as
 * quality. See address.ts for the configuration keys.
 */
import type { DriverContext, DriverDescriptor } from '../sdk/index.ts';
import { bacnetAddressSchema, bacnetConnectionSchema, bacnetLinkKey, checkBacnetPoint } from './address.ts';
import type { BacnetAddress, BacnetConnection } from './address.ts';
import { BacnetSession } from './session.ts';

/** The BACnet driver descriptor (`visitor.bacnet`, `accessConfig.bacnet`). */
export const descriptor: DriverDescriptor<BacnetConnection, BacnetAddress> = {
  id: 'bacnet',
  version: '0.1.0',
  sdkVersion: '^1.0.0',
  title: 'BACnet/IP',
  connectionSchema: bacnetConnectionSchema,
  addressSchema: bacnetAddressSchema,
  checkPoint: checkBacnetPoint,
  capabilities: {
    read: true,
    write: true,
    subscribe: true,
    discover: false,
    batch: true,
    // Bounded by connection.maxPointsPerRequest (at most 1000) and the device's APDU.
    maxPointsPerRead: 1000,
  },
  /** One link per device, unless devices share a fixed local UDP port (then one socket, one link). */
  link: (connection) => ({ key: bacnetLinkKey(connection), window: connection.window }),
  create: (ctx: DriverContext) => ({
    connect: (connection, options) => BacnetSession.open(connection, options, ctx),
  }),
};

export default descriptor;
