/**
 * fieldgate driver plugin for KV/1 instruments (line-based "key=value" over TCP). The descriptor
 * is the module's default export; everything it uses comes from `fieldgate/sdk`.
 */
import type { DriverDescriptor } from 'fieldgate/sdk';
import { checkKvPoint, kvAddressSchema, kvConnectionSchema } from './address.ts';
import type { KvAddress, KvConnection } from './address.ts';
import { KvSession } from './session.ts';

/** The KV/1 driver: `visitor.kv: {key}`, `accessConfig.kv: {address, port, interval, timeout, subscribe}`. */
export const descriptor: DriverDescriptor<KvConnection, KvAddress> = {
  id: 'kv',
  version: '0.1.0',
  // The SDK range this plugin was built and tested against; the gateway refuses it otherwise.
  sdkVersion: '^1.0.0',
  title: 'KV/1 line instruments (key=value over TCP)',
  connectionSchema: kvConnectionSchema,
  addressSchema: kvAddressSchema,
  checkPoint: checkKvPoint,
  capabilities: { read: true, write: true, subscribe: true, discover: false, batch: true },
  // One TCP connection per instrument; requests are pipelined, answered in order.
  link: (c) => ({ key: `kv://${c.address}:${c.port}`, window: 4 }),
  create: (ctx) => ({
    connect: (connection, options) => KvSession.open(connection, options, ctx.log.child({ endpoint: `${connection.address}:${connection.port}` })),
  }),
};

export default descriptor;
